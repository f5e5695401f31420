#include "firmware/json/json_reader.h"

#include <cJSON.h>

#include <cmath>
#include <cstring>

namespace sublink {

JsonType json_type_of(const cJSON* item) {
  if (item == nullptr) return JsonType::missing;
  if (cJSON_IsNull(item)) return JsonType::null;
  if (cJSON_IsBool(item)) return JsonType::boolean;
  if (cJSON_IsString(item)) return JsonType::string;
  if (cJSON_IsArray(item)) return JsonType::array;
  if (cJSON_IsObject(item)) return JsonType::object;
  if (cJSON_IsNumber(item)) {
    double v = item->valuedouble;
    bool exact = std::isfinite(v) && std::trunc(v) == v && std::fabs(v) <= static_cast<double>(kMaxJsonInteger);
    return exact ? JsonType::integer : JsonType::number;
  }
  return JsonType::missing;
}

JsonReader::JsonReader(const cJSON* object, const char* parent, int32_t index)
    : object_(object), parent_(parent), index_(index) {
  if (!cJSON_IsObject(object)) {
    fail(nullptr, JsonProblem::wrong_type, JsonType::object, json_type_of(object));
    object_ = nullptr;
  }
}

const cJSON* JsonReader::field(const char* name) const {
  return object_ ? cJSON_GetObjectItemCaseSensitive(object_, name) : nullptr;
}

const cJSON* JsonReader::optional_any(const char* name) const { return field(name); }

const cJSON* json_first_element(const cJSON* array) { return cJSON_IsArray(array) ? array->child : nullptr; }

const cJSON* json_next_element(const cJSON* element) { return element != nullptr ? element->next : nullptr; }

void JsonReader::fail(const char* name, JsonProblem problem, JsonType expected, JsonType found) {
  if (!ok()) return;
  error_.status = Status(Reason::protocol_violation);
  error_.problem = problem;
  error_.field = name;
  error_.parent = parent_;
  error_.index = index_;
  error_.expected = expected;
  error_.found = found;
}

void JsonReader::reject(const char* name, JsonProblem problem) {
  fail(name, problem, json_type_of(field(name)), json_type_of(field(name)));
}

std::optional<int64_t> JsonReader::read_integer(const char* name, bool required, int64_t min, int64_t max) {
  if (!ok()) return std::nullopt;
  const cJSON* item = field(name);
  JsonType type = json_type_of(item);
  if (type == JsonType::missing || type == JsonType::null) {
    if (required) fail(name, type == JsonType::missing ? JsonProblem::missing : JsonProblem::wrong_type,
                       JsonType::integer, type);
    return std::nullopt;
  }
  if (type == JsonType::number) {
    // Integral but beyond 2^53 (or infinite): a range error, not a type error.
    double v = item->valuedouble;
    bool integral = !std::isfinite(v) || std::trunc(v) == v;
    fail(name, integral ? JsonProblem::out_of_range : JsonProblem::wrong_type, JsonType::integer, type);
    return std::nullopt;
  }
  if (type != JsonType::integer) {
    fail(name, JsonProblem::wrong_type, JsonType::integer, type);
    return std::nullopt;
  }
  auto value = static_cast<int64_t>(item->valuedouble);
  if (value < min || value > max) {
    fail(name, JsonProblem::out_of_range, JsonType::integer, type);
    return std::nullopt;
  }
  return value;
}

int64_t JsonReader::integer(const char* name, int64_t min, int64_t max) {
  return read_integer(name, true, min, max).value_or(0);
}

int64_t JsonReader::integer_or(const char* name, int64_t fallback, int64_t min, int64_t max) {
  return read_integer(name, false, min, max).value_or(fallback);
}

std::optional<int64_t> JsonReader::optional_integer(const char* name, int64_t min, int64_t max) {
  return read_integer(name, false, min, max);
}

std::optional<std::string_view> JsonReader::optional_string(const char* name, size_t max_length) {
  if (!ok()) return std::nullopt;
  const cJSON* item = field(name);
  JsonType type = json_type_of(item);
  if (type == JsonType::missing || type == JsonType::null) return std::nullopt;
  if (type != JsonType::string) {
    fail(name, JsonProblem::wrong_type, JsonType::string, type);
    return std::nullopt;
  }
  std::string_view value(item->valuestring);
  if (value.size() > max_length) {
    fail(name, JsonProblem::too_long, JsonType::string, type);
    return std::nullopt;
  }
  return value;
}

std::string_view JsonReader::string(const char* name, size_t max_length) {
  if (!ok()) return {};
  JsonType type = json_type_of(field(name));
  if (type == JsonType::missing || type == JsonType::null) {
    fail(name, type == JsonType::missing ? JsonProblem::missing : JsonProblem::wrong_type, JsonType::string, type);
    return {};
  }
  return optional_string(name, max_length).value_or(std::string_view{});
}

bool JsonReader::boolean(const char* name) {
  if (!ok()) return false;
  const cJSON* item = field(name);
  JsonType type = json_type_of(item);
  if (type != JsonType::boolean) {
    fail(name, type == JsonType::missing ? JsonProblem::missing : JsonProblem::wrong_type, JsonType::boolean, type);
    return false;
  }
  return cJSON_IsTrue(item);
}

const cJSON* JsonReader::array(const char* name) {
  if (!ok()) return nullptr;
  const cJSON* item = field(name);
  JsonType type = json_type_of(item);
  if (type != JsonType::array) {
    fail(name, type == JsonType::missing ? JsonProblem::missing : JsonProblem::wrong_type, JsonType::array, type);
    return nullptr;
  }
  return item;
}

const cJSON* JsonReader::object(const char* name) {
  if (!ok()) return nullptr;
  const cJSON* item = field(name);
  JsonType type = json_type_of(item);
  if (type != JsonType::object) {
    fail(name, type == JsonType::missing ? JsonProblem::missing : JsonProblem::wrong_type, JsonType::object, type);
    return nullptr;
  }
  return item;
}

}  // namespace sublink
