// Scenario loading, overrides, era defaults, validation errors and the
// YAML round trip, over every built-in preset.
#include "sim/scenario/scenario_loader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "sim/ec2/ec2_cluster.h"
#include "sim/scenario/param_table.h"
#include "sim/scenario/presets.h"

namespace siren::sim {
namespace {

// Every typed field, compared by hand (not through the parameter table) so
// that a field missing from the table shows up as a round-trip failure; the
// plug-in sections' values (Scenario::params) compare as a whole.
void ExpectSameScenario(const Scenario& a, const Scenario& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.workload.name, b.workload.name);
  EXPECT_EQ(a.workload.dataset_samples, b.workload.dataset_samples);
  EXPECT_EQ(a.workload.sample_bytes, b.workload.sample_bytes);
  EXPECT_EQ(a.workload.samples_per_object, b.workload.samples_per_object);
  EXPECT_EQ(a.workload.batch_size, b.workload.batch_size);
  EXPECT_EQ(a.workload.model_params, b.workload.model_params);
  EXPECT_EQ(a.workload.flops_per_sample, b.workload.flops_per_sample);
  EXPECT_EQ(a.workload.runtime_memory_mb, b.workload.runtime_memory_mb);
  EXPECT_EQ(a.workload.package_mb, b.workload.package_mb);
  EXPECT_EQ(a.workload.target_loss, b.workload.target_loss);
  EXPECT_EQ(a.s3.get_latency_median_ms, b.s3.get_latency_median_ms);
  EXPECT_EQ(a.s3.put_latency_median_ms, b.s3.put_latency_median_ms);
  EXPECT_EQ(a.s3.latency_sigma, b.s3.latency_sigma);
  EXPECT_EQ(a.s3.connection_cap_mb_per_s, b.s3.connection_cap_mb_per_s);
  EXPECT_EQ(a.s3.rate_limit, b.s3.rate_limit);
  EXPECT_EQ(a.s3.get_rate_per_prefix, b.s3.get_rate_per_prefix);
  EXPECT_EQ(a.s3.put_rate_per_prefix, b.s3.put_rate_per_prefix);
  EXPECT_EQ(a.s3.prefixes, b.s3.prefixes);
  EXPECT_EQ(a.s3.slowdown_backoff_s, b.s3.slowdown_backoff_s);
  EXPECT_EQ(a.s3.server_slots, b.s3.server_slots);
  EXPECT_EQ(a.s3.server_service_ms, b.s3.server_service_ms);
  EXPECT_EQ(a.billing.s3_usd_per_get, b.billing.s3_usd_per_get);
  EXPECT_EQ(a.billing.s3_usd_per_put, b.billing.s3_usd_per_put);
  EXPECT_EQ(a.execution.mode, b.execution.mode);
  EXPECT_EQ(a.execution.push_protocol, b.execution.push_protocol);
  EXPECT_EQ(a.execution.sync_every, b.execution.sync_every);
  EXPECT_EQ(a.execution.memory_overhead_factor,
            b.execution.memory_overhead_factor);
  EXPECT_EQ(a.job.budget_usd, b.job.budget_usd);
  EXPECT_EQ(a.job.max_epochs, b.job.max_epochs);
  EXPECT_EQ(a.ec2.instance_type, b.ec2.instance_type);
  EXPECT_EQ(a.ec2.instances, b.ec2.instances);
  EXPECT_EQ(a.ec2.billing, b.ec2.billing);
  EXPECT_EQ(a.ec2.startup_s, b.ec2.startup_s);
  EXPECT_EQ(a.ec2.gflops_per_vcpu, b.ec2.gflops_per_vcpu);
  EXPECT_EQ(a.ec2.network_latency_ms, b.ec2.network_latency_ms);
  // The selections and every plug-in section's values.
  EXPECT_EQ(a.models.platform, b.models.platform);
  EXPECT_EQ(a.models.convergence, b.models.convergence);
  EXPECT_TRUE(a.params == b.params);
}

// A stored (plug-in) parameter's value, as a number or list.
double Num(const Scenario& s, const std::string& path) {
  const ParamValue& v = s.params.Get(path);
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}
const std::string& Str(const Scenario& s, const std::string& path) {
  return s.params.String(path);
}
const std::vector<double>& List(const Scenario& s, const std::string& path) {
  return s.params.DoubleList(path);
}

// Runs `load` and expects a ScenarioError on `field` whose message contains
// every string in `parts`.
void ExpectScenarioError(const std::function<void()>& load,
                         const std::string& field,
                         const std::vector<std::string>& parts) {
  try {
    load();
    ADD_FAILURE() << "expected a ScenarioError on '" << field << "'";
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.field(), field) << e.what();
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message '" << e.what() << "' lacks '" << part << "'";
    }
  }
}

void ExpectOverrideError(const std::string& override_text,
                         const std::string& field,
                         const std::vector<std::string>& parts) {
  ExpectScenarioError([&] { LoadScenario("default", {override_text}); }, field,
                      parts);
}

// The required keys only; everything else from the table and era defaults.
const char kMinimalYaml[] = R"(
workload:
  name: tiny
  dataset_samples: 1000
  sample_bytes: 100
  samples_per_object: 100
  batch_size: 10
  model_params: 1000
  flops_per_sample: 1e4
  runtime_memory_mb: 100
  package_mb: 10
  target_loss: 0.5
)";

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(ScenarioLoaderTest, PresetNamesAreThePapersWorkloadsAndTheRunners) {
  EXPECT_EQ(PresetNames(), (std::vector<std::string>{
                               "cnn-movie-reviews", "lenet-mnist",
                               "logreg-click-through", "softmax-digits"}));
  EXPECT_EQ(DefaultPresetName(), "lenet-mnist");
}

TEST(ScenarioLoaderTest, EveryPresetLoadsAndRoundTrips) {
  for (const std::string& name : PresetNames()) {
    SCOPED_TRACE(name);
    const Scenario scenario = LoadScenario(name);
    EXPECT_EQ(scenario.name, name);
    // The paper's workloads run on its 2018 platform; the runner's on today's.
    EXPECT_EQ(Str(scenario, "lambda.era"),
              name == "softmax-digits" ? "2025+" : "2018");
    const std::string yaml = ScenarioToYaml(scenario);
    const Scenario reloaded = ParseScenario(yaml);
    ExpectSameScenario(scenario, reloaded);
    EXPECT_EQ(ScenarioToYaml(reloaded), yaml);
  }
}

TEST(ScenarioLoaderTest, EmbeddedPresetsMatchTheFiles) {
  for (const auto& [name, text] : EmbeddedPresets()) {
    SCOPED_TRACE(name);
    const std::string path = std::string(SIREN_SOURCE_DIR) +
                             "/experiments/scenarios/" + name + ".yaml";
    EXPECT_EQ(ReadFile(path), text);
    ExpectSameScenario(LoadScenario(path), LoadScenario(name));
  }
}

TEST(ScenarioLoaderTest, DefaultResolvesToLenet) {
  const Scenario scenario = LoadScenario("default");
  EXPECT_EQ(scenario.name, "lenet-mnist");
  ExpectSameScenario(scenario, LoadScenario("lenet-mnist"));
  EXPECT_EQ(scenario.workload.model_params, 431080);
  EXPECT_EQ(Num(scenario, "lambda.concurrency_limit"), 3000);
}

TEST(ScenarioLoaderTest, RoundTripsEveryFieldSetAwayFromItsDefault) {
  // Every field differs from its table default, so a field the table
  // forgot would come back with the default.
  Scenario s = LoadScenario("default");
  s.name = "odd \"name\": #1";
  s.workload = {"w", 5000, 1234.5, 77, 33, 12345, 3.3e5, 222.25, 7.5, 0.3};
  // The plug-in sections' values, each away from its default.
  const std::vector<std::pair<std::string, ParamValue>> stored = {
      {"lambda.era", std::string("2018")},
      {"lambda.min_memory_mb", int64_t{256}},
      {"lambda.max_memory_mb", int64_t{4352}},
      {"lambda.memory_step_mb", int64_t{128}},
      {"lambda.timeout_s", 123.25},
      {"lambda.mb_per_vcpu", 1800.5},
      {"lambda.max_vcpus", 5.5},
      {"lambda.gflops_per_vcpu", 7.25},
      {"lambda.compute_noise_sigma", 0.07},
      {"lambda.bandwidth_cap_mb_per_s", 70.5},
      {"lambda.bandwidth_saturation_mb", 1100.5},
      {"lambda.cold_start.memory_mb", std::vector<double>{100, 900}},
      {"lambda.cold_start.mean_ms", std::vector<double>{300.5, 200}},
      {"lambda.cold_start.sd_ms", std::vector<double>{100, 50.25}},
      {"lambda.cold_start.ms_per_package_mb", 12.5},
      {"lambda.warm_start_median_ms", 30.5},
      {"lambda.warm_start_sigma", 0.25},
      {"lambda.keep_alive_s", 700.5},
      {"lambda.concurrency_limit", int64_t{1234}},
      {"lambda.throttle_backoff_base_s", 0.2},
      {"lambda.throttle_backoff_cap_s", 7.5},
      {"lambda.cold_after_timeout", false},
      {"lambda.single_function", true},
      {"billing.granularity_s", 0.05},
      {"billing.usd_per_gb_s", 1.7e-5},
      {"billing.usd_per_request", 3e-7},
      {"convergence.b0", 0.1 / 3},
      {"convergence.b1", 0.7},
      {"convergence.b2", 0.1},
      {"convergence.reference_batch", 33.0},
      {"convergence.batch_exponent", 0.4},
      {"convergence.local_step_exponent", 0.6},
      {"convergence.staleness_penalty", 0.07},
      {"convergence.staleness_gain", 1.5},
      {"convergence.loss_noise_sigma", 0.02},
      {"convergence.sgd.dataset", std::string("my data.h5")},
      {"convergence.sgd.features", int64_t{1000}},
      {"convergence.sgd.fields", int64_t{20}},
      {"convergence.sgd.data_seed", int64_t{9}},
      {"convergence.sgd.eval_samples", int64_t{500}},
      {"convergence.sgd.learning_rate", 0.25},
      {"env.reward_per_second", 0.02},
      {"env.success_bonus", 2.5},
      {"env.budget_penalty", 4.5},
      {"env.min_functions", int64_t{2}},
      {"env.max_functions", int64_t{900}},
      {"env.function_scale", std::string("linear")},
      {"env.function_bins", int64_t{33}},
      {"env.memory_bins", int64_t{21}},
      {"env.time_scale_s", 30.5},
      {"env.batch_time_scale_s", 2.5},
      {"env.observation_clip", 50.5},
  };
  for (const auto& [path, value] : stored) {
    ASSERT_NE(FindParam(path), nullptr) << path;
    ASSERT_NE(FindParam(path)->DefaultFor("2020+"), value) << path;
    s.params.Set(path, value);
  }
  s.s3 = {44.5, 63.5, 0.45, 95.5, true, 5000.5, 3000.5, 7, 0.15, 1, 2.5};
  s.billing = {5e-7, 6e-6};
  s.execution = {ExecutionMode::kBsp, PushProtocol::kCas, 1, 2.5};
  s.job = {3.25, 77};
  s.ec2 = {"m4.2xlarge", 9, Ec2Billing::kPerHour, 45.5, 9.5, 2.5};
  ValidateScenario(s);
  const Scenario reloaded = ParseScenario(ScenarioToYaml(s));
  ExpectSameScenario(s, reloaded);
}

TEST(ScenarioLoaderTest, OverridesApply) {
  const Scenario s = LoadScenario(
      "default",
      {"workload.batch_size=128", "lambda.cold_start.memory_mb=[128, 1024]",
       "lambda.cold_start.mean_ms=[1,2]", "lambda.cold_start.sd_ms=[3, 4.5]",
       "execution.mode=bsp", "s3.rate_limit=true", "name=my-run",
       "ec2.instance_type=m4.large", "ec2.billing = per_hour",
       "workload.name=LeNet, big batch"});
  EXPECT_EQ(s.workload.batch_size, 128);
  EXPECT_EQ(List(s, "lambda.cold_start.mean_ms"), (std::vector<double>{1, 2}));
  EXPECT_EQ(List(s, "lambda.cold_start.sd_ms"), (std::vector<double>{3, 4.5}));
  EXPECT_EQ(s.execution.mode, ExecutionMode::kBsp);
  EXPECT_TRUE(s.s3.rate_limit);
  EXPECT_EQ(s.name, "my-run");
  EXPECT_EQ(s.ec2.instance_type, "m4.large");
  EXPECT_EQ(s.ec2.billing, Ec2Billing::kPerHour);
  EXPECT_EQ(s.workload.name, "LeNet, big batch");

  // Integral numbers in any notation fill an integer field.
  const Scenario t = LoadScenario(
      "default", {"workload.model_params=1e6", "workload.sample_bytes=+785.5",
                  "job.max_epochs=12.0"});
  EXPECT_EQ(t.workload.model_params, 1000000);
  EXPECT_EQ(t.workload.sample_bytes, 785.5);
  EXPECT_EQ(t.job.max_epochs, 12);
}

TEST(ScenarioLoaderTest, LaterOverridesWin) {
  const Scenario s = LoadScenario(
      "default", {"workload.batch_size=128", "workload.batch_size=32"});
  EXPECT_EQ(s.workload.batch_size, 32);
}

TEST(ScenarioLoaderTest, TableDefaultsFillUnsetKeys) {
  const Scenario s = ParseScenario(kMinimalYaml, {}, "minimal.yaml");
  EXPECT_EQ(s.name, "custom");
  EXPECT_EQ(Str(s, "lambda.era"), "2025+");
  EXPECT_EQ(Num(s, "lambda.mb_per_vcpu"), 1769);
  EXPECT_EQ(Num(s, "lambda.concurrency_limit"), 1000);
  EXPECT_EQ(List(s, "lambda.cold_start.mean_ms"),
            (std::vector<double>{265, 258, 254, 250, 246}));
  EXPECT_EQ(Num(s, "billing.usd_per_gb_s"), 0.0000166667);
  EXPECT_EQ(Num(s, "convergence.b1"), 0.4386);
  EXPECT_EQ(s.execution.mode, ExecutionMode::kHsp);
  EXPECT_EQ(s.job.budget_usd, 10);
  EXPECT_EQ(s.job.max_epochs, 100);
  EXPECT_EQ(s.ec2.instance_type, "m4.xlarge");
  EXPECT_EQ(s.ec2.billing, Ec2Billing::kPerSecond);
}

TEST(ScenarioLoaderTest, EraDefaultsApply) {
  const Scenario s2020 = ParseScenario(kMinimalYaml);
  EXPECT_EQ(Num(s2020, "lambda.min_memory_mb"), 128);
  EXPECT_EQ(Num(s2020, "lambda.max_memory_mb"), 10240);
  EXPECT_EQ(Num(s2020, "lambda.memory_step_mb"), 1);
  EXPECT_EQ(Num(s2020, "lambda.timeout_s"), 900);
  EXPECT_EQ(Num(s2020, "billing.granularity_s"), 0.001);

  // The override value 2018 is read as the era name, not a number.
  const Scenario s2018 = ParseScenario(kMinimalYaml, {"lambda.era=2018"});
  EXPECT_EQ(Str(s2018, "lambda.era"), "2018");
  EXPECT_EQ(Num(s2018, "lambda.min_memory_mb"), 128);
  EXPECT_EQ(Num(s2018, "lambda.max_memory_mb"), 3008);
  EXPECT_EQ(Num(s2018, "lambda.memory_step_mb"), 64);
  EXPECT_EQ(Num(s2018, "lambda.timeout_s"), 300);
  EXPECT_EQ(Num(s2018, "billing.granularity_s"), 0.1);

  // An override of the era re-derives the defaults of a preset.
  const Scenario lenet2020 = LoadScenario("lenet-mnist", {"lambda.era=2020+"});
  EXPECT_EQ(Num(lenet2020, "lambda.max_memory_mb"), 10240);
  EXPECT_EQ(Num(lenet2020, "billing.granularity_s"), 0.001);
}

TEST(ScenarioLoaderTest, ExplicitKeysBeatEraDefaults) {
  const std::string yaml = std::string(kMinimalYaml) +
                           "lambda:\n  era: \"2018\"\n  max_memory_mb: 2048\n"
                           "billing:\n  granularity_s: 1\n";
  const Scenario from_file = ParseScenario(yaml);
  EXPECT_EQ(Num(from_file, "lambda.max_memory_mb"), 2048);
  EXPECT_EQ(Num(from_file, "lambda.memory_step_mb"), 64);
  EXPECT_EQ(Num(from_file, "billing.granularity_s"), 1);

  const Scenario from_override =
      ParseScenario(kMinimalYaml, {"lambda.era=2018", "lambda.timeout_s=900"});
  EXPECT_EQ(Num(from_override, "lambda.timeout_s"), 900);
  EXPECT_EQ(Num(from_override, "lambda.max_memory_mb"), 3008);
}

TEST(ScenarioLoaderTest, ExactMessageFormat) {
  try {
    LoadScenario("default", {"workload.batch_size=-3"});
    FAIL();
  } catch (const ScenarioError& e) {
    EXPECT_EQ(
        std::string(e.what()),
        "workload.batch_size: got -3, expected an integer in [1, 1000000] "
        "(override 'workload.batch_size=-3')");
  }
}

TEST(ScenarioErrorTest, UnknownKeySuggestsTheClosest) {
  ExpectOverrideError(
      "workload.batch_sise=64", "workload.batch_sise",
      {"unknown key", "64", "did you mean workload.batch_size"});
  ExpectScenarioError(
      [] {
        ParseScenario(
            std::string(kMinimalYaml) + "lambda:\n  max_memroy_mb: 3008\n", {},
            "mine.yaml");
      },
      "lambda.max_memroy_mb",
      {"unknown key", "3008", "line 14 of mine.yaml",
       "did you mean lambda.max_memory_mb"});
  // The right key in the wrong section.
  ExpectOverrideError("workload.sync_every=2", "workload.sync_every",
                      {"did you mean execution.sync_every"});
  ExpectScenarioError(
      [] {
        ParseScenario(std::string(kMinimalYaml) + "lamda:\n  era: 2018\n");
      },
      "lamda", {"unknown key", "expected a known parameter"});
}

TEST(ScenarioErrorTest, WrongTypes) {
  ExpectOverrideError("workload.batch_size=abc", "workload.batch_size",
                      {"got abc", "expected an integer in [1, 1000000]"});
  ExpectOverrideError("workload.batch_size=1.5", "workload.batch_size",
                      {"got 1.5", "expected an integer in [1, 1000000]"});
  ExpectOverrideError(
      "lambda.timeout_s={a: 1}", "lambda.timeout_s",
      {"got a mapping", "expected a finite number in (0, 86400]"});
  ExpectOverrideError("lambda.timeout_s=[1, 2]", "lambda.timeout_s",
                      {"got a list", "expected a finite number in (0, 86400]"});
  ExpectOverrideError("lambda.cold_start.mean_ms=5",
                      "lambda.cold_start.mean_ms",
                      {"got 5", "expected a non-empty list of finite numbers"});
  ExpectOverrideError("lambda.cold_start.mean_ms=[1, 2",
                      "lambda.cold_start.mean_ms",
                      {"got '[1, 2'", "expected a YAML scalar or flow list"});
  ExpectOverrideError(
      "workload.sample_bytes=+-5", "workload.sample_bytes",
      {"got +-5", "expected a finite number in (0, 1000000000]"});
  ExpectOverrideError("s3.rate_limit=maybe", "s3.rate_limit",
                      {"got maybe", "expected true or false"});
  ExpectOverrideError(
      "workload.batch_size=", "workload.batch_size",
      {"got an empty value", "expected an integer in [1, 1000000]"});
  ExpectOverrideError("lambda.era=2019", "lambda.era",
                      {"got 2019", "expected one of \"2018\", \"2020+\""});
  ExpectOverrideError("execution.mode=ssp", "execution.mode",
                      {"got ssp", "one of \"hsp\", \"bsp\""});
  ExpectOverrideError("ec2.instance_type=m5.large", "ec2.instance_type",
                      {"got m5.large", "\"m4.large\"", "\"m4.4xlarge\""});
  // A quoted number is a string, not a number.
  ExpectScenarioError(
      [] { ParseScenario("workload:\n  batch_size: \"64\"\n", {}, "q.yaml"); },
      "workload.batch_size",
      {"got \"64\"", "expected an integer in [1, 1000000]",
       "line 2 of q.yaml"});
  // A scalar where a section belongs.
  ExpectScenarioError(
      [] { ParseScenario(std::string(kMinimalYaml) + "lambda: 5\n"); },
      "lambda", {"got 5", "expected a mapping of lambda.* keys"});
}

TEST(ScenarioErrorTest, NanAndInfinity) {
  ExpectOverrideError("lambda.timeout_s=.nan", "lambda.timeout_s",
                      {"got .nan", "expected a finite number in (0, 86400]"});
  ExpectOverrideError("s3.latency_sigma=.inf", "s3.latency_sigma",
                      {"got .inf", "expected a finite number in [0, 3]"});
  ExpectOverrideError("s3.latency_sigma=inf", "s3.latency_sigma",
                      {"got inf", "expected a finite number in [0, 3]"});
  ExpectOverrideError("lambda.cold_start.sd_ms=[1, nan, 2, 3, 4]",
                      "lambda.cold_start.sd_ms",
                      {"got a list [1, nan, 2, 3, 4]", "finite numbers"});
}

TEST(ScenarioErrorTest, OutOfRange) {
  ExpectOverrideError("workload.batch_size=0", "workload.batch_size",
                      {"got 0", "expected an integer in [1, 1000000]"});
  ExpectOverrideError("lambda.keep_alive_s=-1", "lambda.keep_alive_s",
                      {"got -1", "expected a finite number in (0, 604800]"});
  ExpectOverrideError("convergence.batch_exponent=1.5",
                      "convergence.batch_exponent",
                      {"got 1.5", "expected a finite number in [0, 1]"});
  ExpectOverrideError("job.max_epochs=100001", "job.max_epochs",
                      {"got 100001", "expected an integer in (0, 100000]"});
  ExpectOverrideError("ec2.instances=0", "ec2.instances",
                      {"got 0", "expected an integer in [1, 1000]"});
  ExpectOverrideError("execution.memory_overhead_factor=0.5",
                      "execution.memory_overhead_factor",
                      {"got 0.5", "in [1, 100]"});
  ExpectOverrideError("lambda.concurrency_limit=5000000000",
                      "lambda.concurrency_limit",
                      {"got 5000000000", "in [1, 1000000]"});
  ExpectOverrideError("lambda.cold_start.mean_ms=[1, -2, 3, 4, 5]",
                      "lambda.cold_start.mean_ms", {"each in [0, 3600000]"});
}

TEST(ScenarioErrorTest, MissingRequiredKey) {
  std::string yaml = kMinimalYaml;
  yaml.erase(yaml.find("  target_loss"));
  ExpectScenarioError([&] { ParseScenario(yaml, {}, "partial.yaml"); },
                      "workload.target_loss",
                      {"missing required key", "partial.yaml",
                       "expected a finite number in (0, 1000000000]"});
}

TEST(ScenarioErrorTest, MissingFile) {
  ExpectScenarioError([] { LoadScenario("no/such/x.yaml"); }, "",
                      {"scenario file 'no/such/x.yaml' not found"});
  ExpectScenarioError([] { LoadScenario("x.yaml"); }, "",
                      {"scenario file 'x.yaml' not found"});
}

TEST(ScenarioErrorTest, UnknownPresetListsThePresets) {
  ExpectScenarioError([] { LoadScenario("resnet"); }, "",
                      {"unknown scenario preset 'resnet'", "lenet-mnist",
                       "cnn-movie-reviews", "logreg-click-through"});
}

TEST(ScenarioErrorTest, MalformedYamlGivesTheLine) {
  ExpectScenarioError(
      [] {
        ParseScenario("workload:\n  name: x\n  batch_size: [1, 2\n", {},
                      "bad.yaml");
      },
      "", {"bad.yaml:", "malformed YAML at line"});
  ExpectScenarioError(
      [] { ParseScenario("workload:\n  name: x\n bad: 1\n", {}, "bad.yaml"); },
      "", {"malformed YAML at line 3"});
  ExpectScenarioError([] { ParseScenario("- 1\n- 2\n", {}, "list.yaml"); }, "",
                      {"list.yaml", "expected a mapping"});
}

TEST(ScenarioErrorTest, OverrideWithoutEquals) {
  ExpectScenarioError([] { LoadScenario("default", {"workload.batch_size"}); },
                      "",
                      {"override 'workload.batch_size'", "expected key=value"});
  ExpectScenarioError([] { LoadScenario("default", {"=5"}); }, "",
                      {"empty key", "expected key=value"});
  ExpectOverrideError("lambda=5", "lambda",
                      {"one parameter per override", "lambda.era"});
}

TEST(ScenarioErrorTest, DuplicateKeys) {
  ExpectScenarioError(
      [] {
        ParseScenario(std::string(kMinimalYaml) + "  batch_size: 20\n", {},
                      "dup.yaml");
      },
      "workload.batch_size",
      {"duplicate key", "line 13 of dup.yaml", "first at line 7"});
  ExpectScenarioError(
      [] {
        ParseScenario(std::string(kMinimalYaml) +
                      "job:\n  max_epochs: 5\njob:\n  budget_usd: 1\n");
      },
      "job", {"duplicate key"});
}

TEST(ScenarioErrorTest, CrossFieldChecks) {
  ExpectOverrideError("workload.batch_size=70000", "workload.batch_size",
                      {"got 70000", "<= workload.dataset_samples (60000)"});
  ExpectOverrideError(
      "workload.target_loss=0.01", "workload.target_loss",
      {"got 0.01", "strictly between convergence.b2 (0.02)", "initial loss"});
  ExpectOverrideError("workload.target_loss=3", "workload.target_loss",
                      {"got 3", "b1^-curve_exponent + b2"});
  ExpectOverrideError("lambda.min_memory_mb=4000", "lambda.min_memory_mb",
                      {"got 4000", "<= lambda.max_memory_mb (3008)"});
  ExpectOverrideError("lambda.memory_step_mb=100", "lambda.memory_step_mb",
                      {"got 100", "divisor", "(2880)"});
  ExpectOverrideError("lambda.cold_start.mean_ms=[1, 2]",
                      "lambda.cold_start.mean_ms",
                      {"got 2 values", "expected 5"});
  ExpectScenarioError(
      [] {
        LoadScenario("default", {"lambda.cold_start.memory_mb=[512, 128]",
                                 "lambda.cold_start.mean_ms=[1, 2]",
                                 "lambda.cold_start.sd_ms=[1, 2]"});
      },
      "lambda.cold_start.memory_mb", {"got [512, 128]", "strictly ascending"});
  ExpectScenarioError(
      [] {
        LoadScenario("default",
                     {"execution.mode=bsp", "execution.sync_every=4"});
      },
      "execution.sync_every", {"got 4", "expected 1 when execution.mode"});
  ExpectOverrideError("lambda.throttle_backoff_cap_s=0.01",
                      "lambda.throttle_backoff_cap_s",
                      {"got 0.01", ">= lambda.throttle_backoff_base_s (0.1)"});
  ExpectOverrideError("workload.runtime_memory_mb=3010",
                      "workload.runtime_memory_mb",
                      {"got 3010", "3008 MB, era 2018", "needs 3015.0 MB"});
}

TEST(ScenarioErrorTest, ValidateChecksHandMadeStructs) {
  const Scenario good = LoadScenario("default");
  ValidateScenario(good);

  Scenario s = good;
  s.workload.batch_size = -3;
  ExpectScenarioError(
      [&] { ValidateScenario(s); }, "workload.batch_size",
      {"workload.batch_size: got -3, expected an integer in [1, 1000000]"});

  s = good;
  s.params.Set("lambda.timeout_s", std::numeric_limits<double>::quiet_NaN());
  ExpectScenarioError([&] { ValidateScenario(s); }, "lambda.timeout_s",
                      {"got .nan", "finite number in (0, 86400]"});

  s = good;
  s.params.Set("lambda.era", std::string("2019"));
  ExpectScenarioError([&] { ValidateScenario(s); }, "lambda.era",
                      {"got \"2019\"", "one of \"2018\", \"2020+\""});

  s = good;
  s.ec2.instance_type = "t2.micro";
  ExpectScenarioError([&] { ValidateScenario(s); }, "ec2.instance_type",
                      {"got \"t2.micro\"", "\"m4.xlarge\""});

  s = good;
  s.params.Set("lambda.cold_start.sd_ms", std::vector<double>{});
  ExpectScenarioError([&] { ValidateScenario(s); }, "lambda.cold_start.sd_ms",
                      {"got []", "non-empty list"});

  s = good;
  s.workload.dataset_samples = 10;
  ExpectScenarioError([&] { ValidateScenario(s); }, "workload.batch_size",
                      {"got 64", "workload.dataset_samples (10)"});
}

TEST(ParamTableTest, DescribeListsEveryParameter) {
  const std::string text = DescribeParameters();
  for (const ParamSpec& spec : ParamTable()) {
    EXPECT_NE(text.find("\n" + spec.path + ": "), std::string::npos)
        << spec.path;
    EXPECT_FALSE(spec.doc.empty()) << spec.path;
    EXPECT_FALSE(spec.source.empty()) << spec.path;
  }
  EXPECT_NE(text.find("lambda.era 2018: 3008, lambda.era 2020+: 10240"),
            std::string::npos);
}

TEST(ParamTableTest, Ec2TypesAreInTheInstanceTable) {
  for (const std::string& name : FindParam("ec2.instance_type")->enum_names) {
    EXPECT_EQ(FindEc2InstanceType(name).name, name);
  }
}

}  // namespace
}  // namespace siren::sim
