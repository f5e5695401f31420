// docs/sublink-config.schema.json against the parser it documents: the same
// keys both ways, the same required ones, the same log levels and
// management methods, so the schema and parse_device_config cannot drift.
// (tests/operator/config_schema_test.py validates the sample configuration
// and the README's against the schema with a JSON Schema validator.)
#include <cJSON.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "firmware/config/config_parser.h"
#include "support/process.h"

namespace sublink {
namespace {

struct CJsonDelete {
  void operator()(cJSON* j) const { cJSON_Delete(j); }
};
using CJsonPtr = std::unique_ptr<cJSON, CJsonDelete>;

CJsonPtr load_schema() {
  std::ifstream in(test::source_path("docs/sublink-config.schema.json"));
  std::stringstream text;
  text << in.rdbuf();
  return CJsonPtr(cJSON_Parse(text.str().c_str()));
}

std::set<std::string> member_names(const cJSON* object) {
  std::set<std::string> names;
  const cJSON* m = nullptr;
  cJSON_ArrayForEach(m, object) names.insert(m->string);
  return names;
}

std::set<std::string> string_items(const cJSON* array) {
  std::set<std::string> items;
  const cJSON* m = nullptr;
  cJSON_ArrayForEach(m, array) {
    if (cJSON_IsString(m)) items.insert(m->valuestring);
  }
  return items;
}

TEST(ConfigSchema, NamesEveryKeyOfTheParserAndNoOther) {
  CJsonPtr schema = load_schema();
  ASSERT_TRUE(schema) << "docs/sublink-config.schema.json is not JSON";
  EXPECT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(schema.get(), "additionalProperties"))) << "an unknown key is an error";
  std::set<std::string> keys, required;
  for (const DeviceConfigKey& k : device_config_keys()) {
    keys.insert(std::string(k.name));
    if (k.required) required.insert(std::string(k.name));
  }
  EXPECT_EQ(member_names(cJSON_GetObjectItem(schema.get(), "properties")), keys);
  EXPECT_EQ(string_items(cJSON_GetObjectItem(schema.get(), "required")), required);
}

TEST(ConfigSchema, ListsTheParsersLogLevelsAndManagementMethods) {
  CJsonPtr schema = load_schema();
  ASSERT_TRUE(schema);
  const cJSON* properties = cJSON_GetObjectItem(schema.get(), "properties");
  std::set<std::string> levels, methods;
  for (const LogLevelName& l : kLogLevelNames) levels.insert(std::string(l.name));
  for (size_t i = 0; i < kManagementMethodCount; ++i) {
    methods.insert(std::string(management_method_name(static_cast<ManagementMethod>(i))));
  }
  EXPECT_EQ(string_items(cJSON_GetObjectItem(cJSON_GetObjectItem(properties, "log_level"), "enum")), levels);
  EXPECT_EQ(string_items(cJSON_GetObjectItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(properties, "management_methods"), "items"), "enum")),
            methods);
}

}  // namespace
}  // namespace sublink
