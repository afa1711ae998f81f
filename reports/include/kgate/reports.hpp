#pragma once
// Report writers. Each writes atomically (temporary file in the same directory, then rename)
// and passes every string through kgate::redact(). Throw std::runtime_error naming the path.
#include <string>

#include "kgate/result.hpp"

namespace kgate::reports {

void write_junit(const RunResult& run, const std::string& path);
void write_html(const RunResult& run, const std::string& path);
void write_json(const RunResult& run, const std::string& path);

// Strings, for tests and for stdout.
std::string junit_xml(const RunResult& run);
std::string html(const RunResult& run);
std::string json_text(const RunResult& run);

// results.json's text (schema kgate/results/v2) back into the model, for writing the reports of
// a run that happened elsewhere (kgate collect). Throws std::runtime_error naming the JSON path.
RunResult parse_results_json(const std::string& text);

// Writes content to path atomically; creates parent directories.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace kgate::reports
