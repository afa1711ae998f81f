{{/* Names ------------------------------------------------------------------ */}}

{{- define "todo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name; "todo" for a release called todo. Components add
a suffix, so keep room for "-postgresql-hl" (14) within 63. */}}
{{- define "todo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 49 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 49 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 49 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "todo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "todo.backend.fullname" -}}{{ include "todo.fullname" . }}-backend{{- end }}
{{- define "todo.frontend.fullname" -}}{{ include "todo.fullname" . }}-frontend{{- end }}
{{- define "todo.postgresql.fullname" -}}{{ include "todo.fullname" . }}-postgresql{{- end }}
{{- define "todo.config.fullname" -}}{{ include "todo.fullname" . }}-config{{- end }}

{{- define "todo.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "todo.fullname" . }}-secrets
{{- end }}
{{- end }}

{{- define "todo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Labels ------------------------------------------------------------------ */}}

{{- define "todo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "todo.labels" -}}
helm.sh/chart: {{ include "todo.chart" . }}
{{ include "todo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: todo
{{- end }}

{{/* Call with (dict "ctx" $ "component" "backend"). */}}
{{- define "todo.componentSelectorLabels" -}}
{{ include "todo.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "todo.componentLabels" -}}
{{ include "todo.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Images -------------------------------------------------------------------- */}}

{{- define "todo.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "todo.kgateImage" -}}
{{- $img := .Values.tests.kgate.image }}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) }}
{{- end }}

{{/* URLs ---------------------------------------------------------------------- */}}

{{- define "todo.backendUrl" -}}
{{- if .Values.config.backendUrl }}
{{- .Values.config.backendUrl }}
{{- else }}
{{- printf "http://%s:%v" (include "todo.backend.fullname" .) .Values.backend.service.port }}
{{- end }}
{{- end }}

{{- define "todo.frontendUrl" -}}
{{- if .Values.config.frontendUrl }}
{{- .Values.config.frontendUrl }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- printf "%s://%s" (ternary "https" "http" (not (empty .Values.ingress.tls))) (first .Values.ingress.hosts) }}
{{- else }}
{{- printf "http://%s:%v" (include "todo.frontend.fullname" .) .Values.frontend.service.port }}
{{- end }}
{{- end }}

{{/* Database ------------------------------------------------------------------ */}}

{{/* "true" when the in-chart PostgreSQL is deployed. */}}
{{- define "todo.postgresql.enabled" -}}
{{- if and .Values.postgresql.enabled (not .Values.secrets.databaseUrl) }}true{{- end }}
{{- end }}

{{/* Refuses value combinations that cannot work. */}}
{{- define "todo.validate" -}}
{{- if and (not .Values.secrets.existingSecret) (not .Values.secrets.databaseUrl) (not .Values.postgresql.enabled) }}
{{- fail "todo: no database: set secrets.databaseUrl, secrets.existingSecret, or postgresql.enabled=true" }}
{{- end }}
{{- if and .Values.frontend.service.nodePort (ne .Values.frontend.service.type "NodePort") }}
{{- fail "todo: frontend.service.nodePort needs frontend.service.type=NodePort" }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
{{- fail "todo: ingress.enabled needs at least one host in ingress.hosts" }}
{{- end }}
{{- range $i, $f := concat (.Values.faults | default list) (.Values.backend.faults | default list) (.Values.frontend.faults | default list) }}
{{- if or (contains "," $f) (contains " " $f) (not $f) }}
{{- fail (printf "todo: fault %q must be one non-empty word without commas or spaces" $f) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod pieces ---------------------------------------------------------------- */}}

{{/* TODO_FAULTS for one role: (dict "ctx" $ "role" .Values.backend). Empty when none. */}}
{{- define "todo.faults" -}}
{{- concat (.ctx.Values.faults | default list) (.role.faults | default list) | uniq | join "," }}
{{- end }}

{{/* Secret-backed env for the app containers: secretKeyRef only, never values. */}}
{{- define "todo.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "todo.secretName" . }}
      key: {{ .Values.secrets.keys.databaseUrl }}
- name: BETTER_AUTH_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "todo.secretName" . }}
      key: {{ .Values.secrets.keys.betterAuthSecret }}
{{- end }}

{{/* ConfigMap-backed env. */}}
{{- define "todo.configEnv" -}}
- name: BACKEND_URL
  valueFrom:
    configMapKeyRef:
      name: {{ include "todo.config.fullname" . }}
      key: BACKEND_URL
- name: FRONTEND_URL
  valueFrom:
    configMapKeyRef:
      name: {{ include "todo.config.fullname" . }}
      key: FRONTEND_URL
- name: LOG_LEVEL
  valueFrom:
    configMapKeyRef:
      name: {{ include "todo.config.fullname" . }}
      key: LOG_LEVEL
{{- end }}

{{/* Restart pods when their configuration changes (values only: the generated
secrets are not hashed, so an upgrade that keeps them does not roll pods). */}}
{{- define "todo.podChecksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secrets: {{ toJson .Values.secrets | sha256sum }}
{{- end }}

{{/* One httpGet probe: (dict "probe" .Values.backend.probes.readiness). */}}
{{- define "todo.httpProbe" -}}
httpGet:
  path: {{ .probe.path }}
  port: http
periodSeconds: {{ .probe.periodSeconds }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
{{- end }}
