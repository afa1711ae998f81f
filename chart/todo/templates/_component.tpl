{{/*
The backend (todo-app --role api) and the frontend (todo-app --role web) share
one shape: Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget.
Each template below is called with (dict "ctx" $ "component" "backend"|"frontend").
*/}}

{{- define "todo.component.fullname" -}}
{{- if eq .component "backend" }}{{ include "todo.backend.fullname" .ctx }}{{ else }}{{ include "todo.frontend.fullname" .ctx }}{{ end }}
{{- end }}

{{/* Replicas the Deployment keeps at least (HPA floor or fixed count). */}}
{{- define "todo.component.minReplicas" -}}
{{- $v := index .ctx.Values .component }}
{{- if $v.autoscaling.enabled }}{{ int $v.autoscaling.minReplicas }}{{ else }}{{ int $v.replicaCount }}{{ end }}
{{- end }}

{{- define "todo.component.deployment" -}}
{{- $ := .ctx }}
{{- $v := index .ctx.Values .component }}
{{- $name := include "todo.component.fullname" . }}
{{- $role := ternary "api" "web" (eq .component "backend") }}
{{- $faults := include "todo.faults" (dict "ctx" $ "role" $v) }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "todo.componentLabels" . | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ int $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "todo.componentSelectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: {{ $v.strategy.maxSurge }}
      maxUnavailable: {{ $v.strategy.maxUnavailable }}
  template:
    metadata:
      annotations:
        {{- include "todo.podChecksums" $ | nindent 8 }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "todo.componentLabels" . | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "todo.serviceAccountName" $ }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ int $v.terminationGracePeriodSeconds }}
      {{- with $.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $.Values.podSecurityContext | nindent 8 }}
      {{- if include "todo.postgresql.enabled" $ }}
      {{- $pg := $.Values.postgresql }}
      initContainers:
        # Waits for the in-chart PostgreSQL so the app's first connection succeeds.
        - name: wait-for-database
          image: {{ printf "%s:%s" $pg.image.repository $pg.image.tag | quote }}
          imagePullPolicy: {{ $pg.image.pullPolicy }}
          command:
            - sh
            - -c
            - until pg_isready -q -h "$0" -p "$1" -t 2; do echo "waiting for $0:$1"; sleep 2; done
            - {{ include "todo.postgresql.fullname" $ }}
            - {{ $pg.port | quote }}
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
            limits:
              cpu: 100m
              memory: 64Mi
          securityContext:
            {{- toYaml $.Values.securityContext | nindent 12 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "todo.image" $ | quote }}
          imagePullPolicy: {{ $.Values.image.pullPolicy }}
          args:
            - --role
            - {{ $role }}
            - --bind
            - 0.0.0.0
            - --port
            - {{ $v.port | quote }}
            {{- if eq $role "web" }}
            - --backend-url
            - {{ include "todo.backendUrl" $ | quote }}
            {{- end }}
            - --log-level
            - {{ $.Values.config.logLevel | quote }}
            - --grace
            - {{ $v.grace | quote }}
            {{- if $v.threads }}
            - --threads
            - {{ $v.threads | quote }}
            {{- end }}
            {{- range $v.extraArgs }}
            - {{ . | quote }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ int $v.port }}
              protocol: TCP
          env:
            {{- include "todo.configEnv" $ | nindent 12 }}
            {{- include "todo.secretEnv" $ | nindent 12 }}
            {{- if eq $role "api" }}
            {{- range $key, $_ := $.Values.secrets.extra }}
            - name: {{ $key }}
              valueFrom:
                secretKeyRef:
                  name: {{ include "todo.secretName" $ }}
                  key: {{ $key }}
            {{- end }}
            {{- end }}
            {{- if $faults }}
            - name: TODO_FAULTS
              value: {{ $faults | quote }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            {{- include "todo.httpProbe" (dict "probe" $v.probes.startup) | nindent 12 }}
          readinessProbe:
            {{- include "todo.httpProbe" (dict "probe" $v.probes.readiness) | nindent 12 }}
          livenessProbe:
            {{- include "todo.httpProbe" (dict "probe" $v.probes.liveness) | nindent 12 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{- define "todo.component.service" -}}
{{- $v := index .ctx.Values .component }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "todo.component.fullname" . }}
  labels:
    {{- include "todo.componentLabels" . | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  selector:
    {{- include "todo.componentSelectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ int $v.service.port }}
      targetPort: http
      protocol: TCP
      {{- if and (eq $v.service.type "NodePort") $v.service.nodePort }}
      nodePort: {{ int $v.service.nodePort }}
      {{- end }}
{{- end }}

{{- define "todo.component.hpa" -}}
{{- $v := index .ctx.Values .component }}
{{- if $v.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "todo.component.fullname" . }}
  labels:
    {{- include "todo.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "todo.component.fullname" . }}
  minReplicas: {{ int $v.autoscaling.minReplicas }}
  maxReplicas: {{ int $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ int $v.autoscaling.targetCPUUtilizationPercentage }}
    {{- with $v.autoscaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ int . }}
    {{- end }}
  {{- with $v.autoscaling.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}

{{- define "todo.component.pdb" -}}
{{- $v := index .ctx.Values .component }}
{{- if and $v.pdb.enabled (gt (int (include "todo.component.minReplicas" .)) 1) }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "todo.component.fullname" . }}
  labels:
    {{- include "todo.componentLabels" . | nindent 4 }}
spec:
  minAvailable: {{ $v.pdb.minAvailable }}
  selector:
    matchLabels:
      {{- include "todo.componentSelectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}
