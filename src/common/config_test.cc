#include "common/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tessera::config {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

const Environment kNoEnv;

// Loads YAML with an injected environment, asserting success.
Config MustLoad(std::string_view yaml, const Environment& env = kNoEnv) {
  auto loaded = Config::LoadString(yaml, env);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  return loaded.ok() ? std::move(loaded).value() : Config();
}

// The error message of a load expected to fail with InvalidArgument.
std::string LoadError(std::string_view yaml, const Environment& env = kNoEnv) {
  auto loaded = Config::LoadString(yaml, env, ConfigSchema::Default(), "tessera.yaml");
  EXPECT_FALSE(loaded.ok());
  if (loaded.ok()) return "";
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument) << loaded.status().ToString();
  return loaded.status().message();
}

TEST(ConfigTest, DefaultSchemaIsValidAndDefaultsAreTyped) {
  const Config config;
  EXPECT_EQ(config.GetString("object_store.type"), "local");
  EXPECT_EQ(config.GetString("object_store.path"), "./data/objects");
  EXPECT_EQ(config.GetString("meta.type"), "sqlite");
  EXPECT_EQ(config.GetString("meta.path"), "./data/meta.db");
  EXPECT_TRUE(config.GetStringList("meta.endpoints").empty());
  EXPECT_EQ(config.GetString("log.path"), "./data/wal");
  EXPECT_EQ(config.GetString("cache.path"), "./data/cache");
  EXPECT_EQ(config.GetBytes("cache.size"), 10ull << 30);
  EXPECT_EQ(config.GetInt("server.port"), 19530);
  EXPECT_EQ(config.GetString("server.data_dir"), "./data");
  EXPECT_EQ(config.GetDuration("server.shutdown_timeout"), milliseconds(30'000));
  EXPECT_EQ(config.GetString("logging.level"), "info");
  EXPECT_FALSE(config.GetBool("object_store.path_style"));
  EXPECT_EQ(config.Source("cache.size"), "default");
}

TEST(ConfigTest, EmptyDocumentsGiveDefaults) {
  for (const char* yaml : {"", "# only a comment\n", "cache:\n", "~"}) {
    const Config config = MustLoad(yaml);
    EXPECT_EQ(config.GetBytes("cache.size"), 10ull << 30) << yaml;
  }
}

TEST(ConfigTest, YamlOverridesDefaults) {
  const Config config = MustLoad(R"(
object_store: {type: s3, endpoint: "http://minio:9000", bucket: vectors, path_style: yes}
meta:
  type: etcd
  endpoints: [http://a:2379, http://b:2379]
log: {type: nats, url: nats://host:4222, replicas: 3}
cache: {path: /var/cache/tessera, size: 512MiB}
server: {port: 8080, shutdown_timeout: 1m30s}
logging: {level: debug}
)");
  EXPECT_EQ(config.GetString("object_store.type"), "s3");
  EXPECT_EQ(config.GetString("object_store.endpoint"), "http://minio:9000");
  EXPECT_TRUE(config.GetBool("object_store.path_style"));
  EXPECT_EQ(config.GetStringList("meta.endpoints"),
            (std::vector<std::string>{"http://a:2379", "http://b:2379"}));
  EXPECT_EQ(config.GetInt("log.replicas"), 3);
  EXPECT_EQ(config.GetBytes("cache.size"), 512ull << 20);
  EXPECT_EQ(config.GetString("cache.path"), "/var/cache/tessera");
  EXPECT_EQ(config.GetInt("server.port"), 8080);
  EXPECT_EQ(config.GetDuration("server.shutdown_timeout"), milliseconds(90'000));
  EXPECT_EQ(config.GetString("logging.level"), "debug");
  EXPECT_EQ(config.GetString("meta.path"), "./data/meta.db");  // untouched key keeps default
  EXPECT_EQ(config.Source("cache.size"), "<string> line 7");
}

TEST(ConfigTest, EnvironmentBeatsYamlAndFlagBeatsEnvironment) {
  const Environment env = {
      {"TESSERA_CACHE_SIZE", "1GiB"},
      {"TESSERA_OBJECT_STORE_SECRET_KEY", "s3cr3t"},
      {"TESSERA_META_ENDPOINTS", "http://x:2379, http://y:2379"},
      {"TESSERA_SIMD_LEVEL", "avx2"},  // not a config key: ignored, the prefix is shared
  };
  Config config = MustLoad("cache: {size: 2GiB}\n", env);
  EXPECT_EQ(config.GetBytes("cache.size"), 1ull << 30);
  EXPECT_EQ(config.Source("cache.size"), "environment variable TESSERA_CACHE_SIZE");
  EXPECT_EQ(config.GetString("object_store.secret_key"), "s3cr3t");
  EXPECT_EQ(config.GetStringList("meta.endpoints"),
            (std::vector<std::string>{"http://x:2379", "http://y:2379"}));

  ASSERT_TRUE(config.Set("cache.size", "3GiB").ok());
  EXPECT_EQ(config.GetBytes("cache.size"), 3ull << 30);
  EXPECT_EQ(config.Source("cache.size"), "flag");
}

TEST(ConfigTest, DumpMasksSecretsAndNamesSources) {
  const Config config = MustLoad("object_store: {secret_key: hunter2}\n");
  const std::string dump = config.Dump();
  EXPECT_THAT(dump, HasSubstr("object_store.secret_key = ****  # <string> line 1"));
  EXPECT_THAT(dump, Not(HasSubstr("hunter2")));
  EXPECT_THAT(dump, HasSubstr("cache.size = 10GiB  # default"));
}

TEST(ConfigTest, LoadFileReportsPathAndLine) {
  const std::string path = ::testing::TempDir() + "/tessera_config_test.yaml";
  {
    std::ofstream out(path);
    out << "server:\n  port: 19531\ncache:\n  size: ten\n";
  }
  auto loaded = Config::LoadFile(path, kNoEnv);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(),
            "config key 'cache.size' (" + path +
                " line 4): cannot parse 'ten' as a size (expected e.g. 10GiB, 512MiB, 100KB or a "
                "plain number of bytes)");
  {
    std::ofstream out(path);
    out << "server:\n  port: 19531\n";
  }
  auto ok = Config::LoadFile(path, kNoEnv);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->GetInt("server.port"), 19531);
  std::remove(path.c_str());

  auto missing = Config::LoadFile(path + ".missing", kNoEnv);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(".missing"));
}

TEST(ConfigTest, YamlErrorsNameTheKeyAndLine) {
  EXPECT_THAT(LoadError("cahce: {size: 1GiB}\n"),
              AllOf(HasSubstr("unknown config section 'cahce'"), HasSubstr("tessera.yaml line 1"),
                    HasSubstr("known sections: cache, coord, datanode, indexnode, log, logging, meta, object_store, proxy, querynode, server")));
  EXPECT_THAT(LoadError("cache:\n  szie: 1GiB\n"),
              AllOf(HasSubstr("unknown config key 'cache.szie'"), HasSubstr("line 2"),
                    HasSubstr("path, size")));
  EXPECT_THAT(LoadError("server: {port: abc}\n"),
              AllOf(HasSubstr("'server.port'"), HasSubstr("line 1"), HasSubstr("as an integer")));
  EXPECT_THAT(LoadError("server: {port: 70000}\n"),
              AllOf(HasSubstr("'server.port'"), HasSubstr("out of range [1, 65535]")));
  EXPECT_THAT(LoadError("object_store: {path_style: maybe}\n"),
              AllOf(HasSubstr("'object_store.path_style'"), HasSubstr("as a boolean")));
  EXPECT_THAT(LoadError("server: {shutdown_timeout: 10}\n"),
              AllOf(HasSubstr("'server.shutdown_timeout'"), HasSubstr("as a duration")));
  EXPECT_THAT(LoadError("meta: {type: postgres}\n"),
              AllOf(HasSubstr("'meta.type'"), HasSubstr("not one of: sqlite,etcd")));
  EXPECT_THAT(LoadError("cache: {size: {a: 1}}\n"),
              AllOf(HasSubstr("'cache.size'"), HasSubstr("expected a size, got a mapping")));
  EXPECT_THAT(LoadError("meta: {endpoints: [[a]]}\n"),
              AllOf(HasSubstr("'meta.endpoints'"), HasSubstr("list items must be plain strings")));
  EXPECT_THAT(LoadError("cache:\n  size:\n"),
              AllOf(HasSubstr("'cache.size'"), HasSubstr("has no value")));
  EXPECT_THAT(LoadError("cache:\n  size: 1GiB\n  size: 2GiB\n"),
              AllOf(HasSubstr("'cache.size' is set twice"), HasSubstr("line 2"), HasSubstr("line 3")));
  EXPECT_THAT(LoadError("cache: 10GiB\n"),
              AllOf(HasSubstr("section 'cache'"), HasSubstr("must be a mapping")));
  EXPECT_THAT(LoadError("- a\n- b\n"), HasSubstr("top level must be a mapping"));
  EXPECT_THAT(LoadError("cache: {size: 1GiB\n"),
              AllOf(HasSubstr("tessera.yaml line"), HasSubstr("invalid YAML")));
}

TEST(ConfigTest, EnvironmentErrorsNameTheVariable) {
  EXPECT_EQ(LoadError("", {{"TESSERA_CACHE_SIZE", "ten"}}),
            "config key 'cache.size' (environment variable TESSERA_CACHE_SIZE): cannot parse "
            "'ten' as a size (expected e.g. 10GiB, 512MiB, 100KB or a plain number of bytes)");
  EXPECT_THAT(LoadError("", {{"TESSERA_SERVER_PORT", "0"}}),
              AllOf(HasSubstr("'server.port'"), HasSubstr("TESSERA_SERVER_PORT")));
  // A misspelt key of a known section stops start-up; other TESSERA_* variables are tools'.
  EXPECT_THAT(LoadError("", {{"TESSERA_COORD_GC_INTERVALL", "5s"}}),
              AllOf(HasSubstr("TESSERA_COORD_GC_INTERVALL"), HasSubstr("gc_interval")));
  MustLoad("", {{"TESSERA_CRASHPOINT", "x"}, {"TESSERA_LOGGING_LEVEL", "info"}});
}

TEST(ConfigTest, SizesAndRatiosHaveRanges) {
  EXPECT_THAT(LoadError("coord: {compaction_delete_ratio: 5}"), HasSubstr("out of range [0.0, 1.0]"));
  EXPECT_THAT(LoadError("coord: {compaction_delete_ratio: -1}"), HasSubstr("compaction_delete_ratio"));
  EXPECT_THAT(LoadError("server: {max_body_size: 0}"), HasSubstr("max_body_size"));
  EXPECT_THAT(LoadError("datanode: {segment_size: 0}"), HasSubstr("smallest allowed size"));
  EXPECT_THAT(LoadError("coord: {compaction_target_size: 0}"), HasSubstr("compaction_target_size"));
  EXPECT_EQ(MustLoad("coord: {compaction_delete_ratio: 1}").GetDouble("coord.compaction_delete_ratio"), 1.0);
}

TEST(ConfigTest, SetValidatesLikeEveryOtherSource) {
  Config config;
  Status s = config.Set("cache.size", "lots", "flag --set");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("'cache.size'"), HasSubstr("flag --set")));
  EXPECT_EQ(config.GetBytes("cache.size"), 10ull << 30);  // a failed Set changes nothing
  EXPECT_THAT(config.Set("cache.colour", "red").message(),
              HasSubstr("unknown config key 'cache.colour'"));
  EXPECT_THAT(config.Set("nosuch.key", "1").message(), HasSubstr("unknown config section 'nosuch'"));
  EXPECT_THAT(config.Set("port", "1").message(), HasSubstr("must be written section.key"));
  ASSERT_TRUE(config.Set("logging.level", "warn").ok());
  EXPECT_EQ(config.GetString("logging.level"), "warn");
}

TEST(ConfigTest, CustomSchemaCoversEveryType) {
  static constexpr KeySpec kKeys[] = {
      {.section = "t", .key = "ratio", .type = ValueType::kDouble, .default_value = "0.5", .doc = "d"},
      {.section = "t", .key = "tags", .type = ValueType::kStringList, .default_value = "a,b", .doc = "d"},
  };
  auto schema = ConfigSchema::Make(kKeys);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto config = Config::LoadString("t: {ratio: 0.25, tags: c}\n", kNoEnv, *schema);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_DOUBLE_EQ(config->GetDouble("t.ratio"), 0.25);
  EXPECT_EQ(config->GetStringList("t.tags"), std::vector<std::string>{"c"});
  EXPECT_THAT(Config::LoadString("t: {ratio: x}\n", kNoEnv, *schema).status().message(),
              HasSubstr("'t.ratio'"));
}

TEST(ConfigSchemaTest, RejectsBadTables) {
  static constexpr KeySpec kDuplicate[] = {
      {.section = "a", .key = "b", .type = ValueType::kInt, .default_value = "1", .doc = "d"},
      {.section = "a", .key = "b", .type = ValueType::kInt, .default_value = "2", .doc = "d"},
  };
  EXPECT_THAT(ConfigSchema::Make(kDuplicate).status().message(), HasSubstr("registered twice"));
  static constexpr KeySpec kEnvClash[] = {
      {.section = "a_b", .key = "c", .type = ValueType::kInt, .default_value = "1", .doc = "d"},
      {.section = "a", .key = "b_c", .type = ValueType::kInt, .default_value = "2", .doc = "d"},
  };
  EXPECT_THAT(ConfigSchema::Make(kEnvClash).status().message(), HasSubstr("TESSERA_A_B_C"));
  static constexpr KeySpec kBadDefault[] = {
      {.section = "a", .key = "size", .type = ValueType::kBytes, .default_value = "big", .doc = "d"},
  };
  EXPECT_THAT(ConfigSchema::Make(kBadDefault).status().message(),
              AllOf(HasSubstr("'a.size'"), HasSubstr("default")));
  static constexpr KeySpec kBadName[] = {
      {.section = "A", .key = "b", .type = ValueType::kInt, .default_value = "1", .doc = "d"},
  };
  EXPECT_FALSE(ConfigSchema::Make(kBadName).ok());
}

// docs/configuration.md is generated from the key table; this keeps them in step.
// Regenerate with TESSERA_UPDATE_GOLDEN=1.
TEST(ConfigSchemaTest, MarkdownMatchesDocs) {
  const std::string path = std::string(TESSERA_SOURCE_DIR) + "/docs/configuration.md";
  const std::string rendered = RenderMarkdown(ConfigSchema::Default());
  for (const KeySpec& spec : ConfigSchema::Default().keys()) {
    EXPECT_THAT(rendered, HasSubstr("| `" + std::string(spec.key) + "` |"));
    EXPECT_THAT(rendered, HasSubstr(EnvVarName(spec)));
  }
  if (const char* update = std::getenv("TESSERA_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(path) << rendered;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing " << path << "; run with TESSERA_UPDATE_GOLDEN=1";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), rendered) << "docs/configuration.md is stale; run with TESSERA_UPDATE_GOLDEN=1";
}

}  // namespace
}  // namespace tessera::config
