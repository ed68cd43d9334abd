#include "agent/trainer/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>

#include "agent/trainer/anchor.h"
#include "agent/trainer/anchor_table.h"
#include "agent/trainer/policy.h"
#include "agent/trainer/train_log.h"
#include "env/action_codec.h"
#include "env/observation.h"
#include "env/step_info.h"
#include "env/vector_env.h"
#include "sim/core/rng.h"
#include "sim/engine/job_draw.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::agent {
namespace {

constexpr int kActionSize = 2;
constexpr int kLogColumns = 9;

[[noreturn]] void Bad(const std::string& field, const std::string& got,
                      const std::string& expected) {
  throw std::invalid_argument(field + ": got " + got + ", expected " +
                              expected);
}

void Validate(const TrainerConfig& c) {
  if (c.algorithm != "ppo" && c.algorithm != "reinforce") {
    Bad("algorithm", "'" + c.algorithm + "'", "\"ppo\" or \"reinforce\"");
  }
  if (c.iterations < 1) Bad("iterations", std::to_string(c.iterations), ">= 1");
  if (c.num_envs < 1) Bad("num_envs", std::to_string(c.num_envs), ">= 1");
  if (c.num_threads < 1) {
    Bad("num_threads", std::to_string(c.num_threads), ">= 1");
  }
  if (c.hidden < 1) Bad("hidden", std::to_string(c.hidden), ">= 1");
  if (!(c.learning_rate > 0)) {
    Bad("learning_rate", std::to_string(c.learning_rate), "> 0");
  }
  if (!(c.gamma > 0 && c.gamma <= 1)) {
    Bad("gamma", std::to_string(c.gamma), "in (0, 1]");
  }
  if (!(c.gae_lambda >= 0 && c.gae_lambda <= 1)) {
    Bad("gae_lambda", std::to_string(c.gae_lambda), "in [0, 1]");
  }
  if (!(c.clip > 0)) Bad("clip", std::to_string(c.clip), "> 0");
  if (c.ppo_epochs < 1) Bad("ppo_epochs", std::to_string(c.ppo_epochs), ">= 1");
  if (c.minibatch < 1) Bad("minibatch", std::to_string(c.minibatch), ">= 1");
  if (c.anchor != "oracle" && c.anchor != "schedule" && c.anchor != "none") {
    Bad("anchor", "'" + c.anchor + "'", "\"oracle\", \"schedule\" or \"none\"");
  }
  if (c.anchor_budgets < 2) {
    Bad("anchor_budgets", std::to_string(c.anchor_budgets), ">= 2");
  }
  if (!(c.anchor_gap >= 0) || !std::isfinite(c.anchor_gap)) {
    Bad("anchor_gap", std::to_string(c.anchor_gap), "a finite number >= 0");
  }
  if (c.lr_schedule != "linear" && c.lr_schedule != "constant") {
    Bad("lr_schedule", "'" + c.lr_schedule + "'", "\"linear\" or \"constant\"");
  }
  if (!std::isfinite(c.initial_log_std)) {
    Bad("initial_log_std", std::to_string(c.initial_log_std), "finite");
  }
  if (c.tuning_seeds < 1) {
    Bad("tuning_seeds", std::to_string(c.tuning_seeds), ">= 1");
  }
  if (c.validation_seeds < 1) {
    Bad("validation_seeds", std::to_string(c.validation_seeds), ">= 1");
  }
  if (!(c.safeguard_z >= 0) || !std::isfinite(c.safeguard_z)) {
    Bad("safeguard_z", std::to_string(c.safeguard_z), "a finite number >= 0");
  }
  if (!(c.safeguard_max_slowdown >= 0) ||
      !std::isfinite(c.safeguard_max_slowdown)) {
    Bad("safeguard_max_slowdown", std::to_string(c.safeguard_max_slowdown),
        "a finite number >= 0");
  }
  if (c.checkpoint_every < 1) {
    Bad("checkpoint_every", std::to_string(c.checkpoint_every), ">= 1");
  }
  if (!(c.max_train_s >= 0) || !std::isfinite(c.max_train_s)) {
    Bad("max_train_s", std::to_string(c.max_train_s),
        "a finite number >= 0 (0: no cap)");
  }
  if (c.snapshot_every < 0) {
    Bad("snapshot_every", std::to_string(c.snapshot_every),
        ">= 0 (0: no snapshots)");
  }
}

// A number as text that reads back exactly.
std::string Exact(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// Whether the run's anchor table is refined (RefineOracleAnchorTable runs):
// the oracle anchor over a budget range (a table of more than one row), with
// a gap.
bool RefinesAnchorTable(const TrainerConfig& c, const sim::Scenario& scenario) {
  return c.anchor == "oracle" && c.anchor_gap > 0 &&
         !sim::JobVariability::FromScenario(scenario).budget_range.empty();
}

// The training log's file attributes: the run's settings, numbers as
// numbers; the scenario as its merged YAML.
std::map<std::string, LogAttribute> LogAttributes(
    const TrainerConfig& c, const sim::Scenario& scenario) {
  const std::string scenario_yaml = sim::ScenarioToYaml(scenario);
  std::string overrides;
  for (const std::string& o : c.overrides) overrides += o + "\n";
  return {{"scenario", c.scenario},
          {"overrides", overrides},
          {"scenario_yaml", scenario_yaml},
          {"algorithm", c.algorithm},
          {"seed", static_cast<uint64_t>(c.seed)},
          {"hidden", static_cast<int64_t>(c.hidden)},
          {"num_envs", static_cast<int64_t>(c.num_envs)},
          {"learning_rate", c.learning_rate},
          {"gamma", c.gamma},
          {"gae_lambda", c.gae_lambda},
          {"clip", c.clip},
          {"ppo_epochs", static_cast<int64_t>(c.ppo_epochs)},
          {"minibatch", static_cast<int64_t>(c.minibatch)},
          {"entropy_coef", c.entropy_coef},
          {"iterations", static_cast<int64_t>(c.iterations)},
          {"initial_log_std", c.initial_log_std},
          {"anchor", c.anchor},
          {"anchor_budgets", static_cast<int64_t>(c.anchor_budgets)},
          {"anchor_gap", c.anchor_gap},
          // Whether the cliff search ran: only a refined table has one.
          {"anchor_cliff_search",
           static_cast<int64_t>(c.anchor_cliff_search &&
                                RefinesAnchorTable(c, scenario))},
          {"tuning_seeds", static_cast<int64_t>(c.tuning_seeds)},
          {"validation_seeds", static_cast<int64_t>(c.validation_seeds)},
          {"safeguard", static_cast<int64_t>(c.safeguard ? 1 : 0)},
          {"safeguard_z", c.safeguard_z},
          {"safeguard_max_slowdown", c.safeguard_max_slowdown},
          {"lr_schedule", c.lr_schedule},
          {"version", std::string(SIREN_VERSION)}};
}

// The settings a checkpoint carries, as text: the ones to export it and the
// ones that --resume must find unchanged (kResumeKeys). The scenario is
// compared as its merged YAML, so a preset, a file and overrides compare by
// what they mean. The log's attributes (above) as text, numbers exactly,
// without the version.
std::map<std::string, std::string> ConfigAttributes(
    const TrainerConfig& c, const sim::Scenario& scenario) {
  std::map<std::string, std::string> text;
  for (const auto& [key, value] : LogAttributes(c, scenario)) {
    if (key == "version") continue;
    text[key] = std::visit(
        [](const auto& v) -> std::string {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            return v;
          } else if constexpr (std::is_same_v<T, double>) {
            return Exact(v);
          } else {
            return std::to_string(v);
          }
        },
        value);
  }
  return text;
}

// What --resume compares between the checkpoint and this invocation, with
// the option that sets each (a key the checkpoint lacks, from an older
// version, is not compared, unless kResumeKeysBefore says what it was).
const std::vector<std::pair<std::string, std::string>> kResumeKeys = {
    {"scenario_yaml", "--scenario and key=value overrides"},
    {"algorithm", "--algorithm"},
    {"num_envs", "--envs"},
    {"seed", "--seed"},
    {"hidden", "--hidden"},
    {"learning_rate", "--lr"},
    {"gamma", "--gamma"},
    {"gae_lambda", "gae_lambda"},
    {"clip", "clip"},
    {"ppo_epochs", "--ppo-epochs"},
    {"minibatch", "--minibatch"},
    {"entropy_coef", "--entropy-coef"},
    {"initial_log_std", "--initial-log-std"},
    {"anchor", "--anchor"},
    {"anchor_budgets", "--anchor-budgets"},
    {"anchor_gap", "--anchor-gap"},
    {"anchor_cliff_search", "--no-anchor-cliff-search"},
    {"tuning_seeds", "--tuning-seeds"},
    {"lr_schedule", "--lr-schedule"},
};

// The value a resume key had before checkpoints carried it, so that an
// older run resumes only with the setting it was trained with.
const std::map<std::string, std::string> kResumeKeysBefore = {
    {"anchor_gap", "0"},           // No refinement before --anchor-gap.
    {"anchor_cliff_search", "0"},  // Nor a cliff search before it.
};

// The leaves of a block-style YAML text (as ScenarioToYaml writes it):
// dotted path -> value text.
std::map<std::string, std::string> YamlLeaves(const std::string& text) {
  std::map<std::string, std::string> leaves;
  std::vector<std::pair<size_t, std::string>> parents;  // (indent, key)
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t indent = line.find_first_not_of(' ');
    const size_t colon = line.find(':');
    if (indent == std::string::npos || colon == std::string::npos ||
        line[indent] == '#' || line[indent] == '-') {
      continue;
    }
    while (!parents.empty() && parents.back().first >= indent) {
      parents.pop_back();
    }
    std::string path;
    for (const auto& parent : parents) path += parent.second + ".";
    path += line.substr(indent, colon - indent);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (value.empty()) {
      parents.emplace_back(indent, line.substr(indent, colon - indent));
    } else {
      leaves[path] = value;
    }
  }
  return leaves;
}

// The first few parameters on which two scenarios' YAML differ, as
// "path checkpoint -> now".
std::string YamlDifference(const std::string& saved, const std::string& now) {
  const auto a = YamlLeaves(saved), b = YamlLeaves(now);
  std::map<std::string, std::pair<std::string, std::string>> differ;
  for (const auto& [path, value] : a) {
    const auto it = b.find(path);
    const std::string other = it == b.end() ? "(absent)" : it->second;
    if (other != value) differ[path] = {value, other};
  }
  for (const auto& [path, value] : b) {
    if (a.count(path) == 0) differ[path] = {"(absent)", value};
  }
  std::string out;
  int shown = 0;
  for (const auto& [path, values] : differ) {
    if (shown == 4) {
      out += "; and " + std::to_string(differ.size() - shown) + " more";
      break;
    }
    out += (shown++ ? "; " : "") + path + " " + values.first + " -> " +
           values.second;
  }
  return out.empty() ? "(the same parameters, written differently)" : out;
}

// Throws std::invalid_argument naming every setting of `now` that differs
// from the checkpoint's `saved` ones.
void CheckResumable(const std::string& out_dir,
                    const std::map<std::string, std::string>& saved,
                    const std::map<std::string, std::string>& now) {
  std::string differences;
  if (saved.count("scenario_yaml") == 0) {
    // A checkpoint of an older version: compare the scenario as given.
    for (const char* key : {"scenario", "overrides"}) {
      const auto it = saved.find(key);
      if (it != saved.end() && it->second != now.at(key)) {
        if (!differences.empty()) differences += "; ";
        differences += std::string(key) + ": checkpoint '" + it->second +
                       "', now '" + now.at(key) + "'";
      }
    }
  }
  for (const auto& [key, option] : kResumeKeys) {
    auto it = saved.find(key);
    if (it == saved.end()) {
      it = kResumeKeysBefore.find(key);
      if (it == kResumeKeysBefore.end()) continue;
    }
    if (it->second == now.at(key)) continue;
    if (!differences.empty()) differences += "; ";
    if (key == "scenario_yaml") {
      differences +=
          "the scenario (" + option + "): checkpoint '" + saved.at("scenario") +
          "'" + (saved.at("overrides").empty() ? "" : " with overrides") +
          ", now '" + now.at("scenario") +
          "'; first differences: " + YamlDifference(it->second, now.at(key));
    } else {
      differences += key + " (" + option + "): checkpoint " + it->second +
                     ", now " + now.at(key);
    }
  }
  if (!differences.empty()) {
    throw std::invalid_argument(
        "--resume: the run in '" + out_dir +
        "' was trained with other settings, and resuming would mix them "
        "into one run: " +
        differences +
        ". Resume with the checkpoint's settings, or start a new run (another "
        "--out, or --force to replace this one)");
  }
}

// The first sentence of a libtorch error, without its C++ stack frames.
std::string TorchMessage(const c10::Error& e) {
  std::string text = e.what_without_backtrace();
  text = text.substr(0, text.find('\n'));
  return text.substr(0, text.find(". "));
}

// Runs `f`, turning a libtorch error into std::invalid_argument
// "<what> (<torch's reason>)<then>".
template <typename F>
auto WithTorchErrors(const std::string& what, const std::string& then, F&& f)
    -> decltype(f()) {
  try {
    return f();
  } catch (const c10::Error& e) {
    throw std::invalid_argument(what + " (" + TorchMessage(e) + ")" + then);
  }
}

// The files of a run folder; the ".tmp" ones are half-written.
const std::vector<std::string> kRunFiles = {"checkpoint.pt", "log.h5",
                                            "policy.pt"};

torch::Tensor TextTensor(const std::string& text) {
  torch::Tensor t =
      torch::empty({static_cast<int64_t>(text.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr(), text.data(), text.size());
  return t;
}

std::string TensorText(const torch::Tensor& t) {
  return std::string(static_cast<const char*>(t.data_ptr()),
                     static_cast<size_t>(t.numel()));
}

std::string ConfigText(const std::map<std::string, std::string>& config) {
  std::ostringstream text;
  for (const auto& [key, value] : config) {
    text << key << '\x1f' << value << '\x1e';
  }
  return text.str();
}

std::map<std::string, std::string> ParseConfigText(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\x1e', start);
    const size_t split = text.find('\x1f', start);
    out[text.substr(start, split - start)] =
        text.substr(split + 1, end - split - 1);
    start = end + 1;
  }
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// A seed per (run, iteration, env), independent of everything else.
uint64_t EnvSeed(uint64_t seed, int iteration, int env) {
  return sim::MixBits(seed * 0x9E3779B97F4A7C15ull +
                      0xD1B54A32D192ED03ull *
                          (static_cast<uint64_t>(iteration) + 1) +
                      0x8CB92BA72F3D8DD7ull * (static_cast<uint64_t>(env) + 1));
}

std::string Metadata(const sim::Scenario& scenario,
                     const TrainReport& report = {}) {
  std::string names;
  for (const std::string& n : env::ObservationNames()) {
    names += (names.empty() ? "\"" : ", \"") + n + "\"";
  }
  std::string yaml;
  for (char c : sim::ScenarioToYaml(scenario)) {
    if (c == '"' || c == '\\') yaml += '\\';
    yaml += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  std::string exported;
  if (report.anchored && report.anchor_table_json.empty()) {
    exported = "\"anchor\": {\"functions\": " +
               std::to_string(report.anchor_functions) +
               ", \"memory_mb\": " + std::to_string(report.anchor_memory_mb) +
               "}, \"exported\": \"" +
               (report.exported_learned ? "learned" : "oracle static") + "\", ";
  } else if (report.anchored) {
    exported =
        "\"anchor_table\": " + report.anchor_table_json + ", \"exported\": \"" +
        (report.exported_learned ? "learned" : report.exported_anchor) + "\", ";
  }
  return "{\"format\": \"siren-policy-1\", \"action_encoding\": \"box\", " +
         exported + "\"observation_names\": [" + names +
         "], \"scenario_yaml\": \"" + yaml + "\"}";
}

// One env's episode within an iteration's rollout.
struct Episode {
  std::vector<torch::Tensor> observations;  // Raw, [10] each.
  std::vector<torch::Tensor> actions;       // [2] each.
  std::vector<float> log_probs, values;
  std::vector<double> rewards;
  bool terminated = false;
  torch::Tensor final_observation;  // For truncation bootstrap.
  double jct_s = 0, cost_usd = 0;
  bool success = false;
  bool over_budget = false;  // cost_usd > the episode's budget.
};

// The state saved in a checkpoint.
struct TrainingState {
  ActorCritic model{nullptr};
  RunningNorm norm{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer;
  at::Generator generator;
  int next_iteration = 0;
  std::vector<IterationLog> log;
  double wall_s = 0;
  // The safeguard exported the static policy (set after training; a
  // checkpoint written before the safeguard ran holds false).
  bool exported_static = false;
  // The anchor table's kind ("oracle", "schedule"; "" without an anchor)
  // and row budgets in USD.
  std::string anchor_kind;
  std::vector<double> anchor_budgets_usd;
};

void SaveCheckpoint(const std::string& path,
                    const std::map<std::string, std::string>& config,
                    TrainingState& state) {
  torch::serialize::OutputArchive archive, model, norm, optimizer;
  state.model->save(model);
  state.norm->save(norm);
  state.optimizer->save(optimizer);
  archive.write("model", model);
  archive.write("norm", norm);
  archive.write("optimizer", optimizer);
  archive.write("generator", state.generator.get_state());
  archive.write("next_iteration",
                torch::tensor({static_cast<int64_t>(state.next_iteration)}));
  archive.write("config", TextTensor(ConfigText(config)));
  torch::Tensor rows = torch::zeros(
      {static_cast<int64_t>(state.log.size()), kLogColumns}, torch::kFloat64);
  for (size_t i = 0; i < state.log.size(); ++i) {
    const IterationLog& r = state.log[i];
    const double values[kLogColumns] = {static_cast<double>(r.iteration),
                                        r.mean_return,
                                        r.mean_jct_s,
                                        r.mean_cost_usd,
                                        r.success_rate,
                                        r.entropy,
                                        r.env_steps_per_s,
                                        r.wall_s,
                                        static_cast<double>(r.env_steps)};
    for (int j = 0; j < kLogColumns; ++j) rows[i][j] = values[j];
  }
  archive.write("log", rows);
  archive.write("exported_static",
                torch::tensor({static_cast<int64_t>(state.exported_static)}));
  archive.write("anchor_kind", TextTensor(state.anchor_kind));
  archive.write(
      "anchor_budgets_usd",
      torch::tensor(state.anchor_budgets_usd.empty() ? std::vector<double>{0.0}
                                                     : state.anchor_budgets_usd,
                    torch::kFloat64));
  archive.write(
      "anchor_epochs",
      torch::tensor({static_cast<int64_t>(state.model->anchor_epochs)}));
  if (state.model->anchor_table.defined()) {
    archive.write("anchor_table", state.model->anchor_table);
    archive.write("anchor_budgets", state.model->anchor_budgets);
  }
  const std::string temporary = path + ".tmp";
  WithTorchErrors("cannot write the checkpoint '" + path + "'", "",
                  [&] { archive.save_to(temporary); });
  std::filesystem::rename(temporary, path);
}

void LoadArchive(const std::string& path, TrainingState& state,
                 std::map<std::string, std::string>* config);

void LoadCheckpoint(const std::string& path, TrainingState& state,
                    std::map<std::string, std::string>* config) {
  if (!std::filesystem::is_regular_file(path)) {
    throw std::invalid_argument("checkpoint: '" + path + "' not found");
  }
  WithTorchErrors(
      "checkpoint: '" + path + "' is not a checkpoint written by siren train",
      "; expected DIR/checkpoint.pt of a training run",
      [&] { LoadArchive(path, state, config); });
}

void LoadArchive(const std::string& path, TrainingState& state,
                 std::map<std::string, std::string>* config) {
  torch::serialize::InputArchive archive, model, norm, optimizer;
  archive.load_from(path);
  archive.read("model", model);
  state.model->load(model);
  archive.read("norm", norm);
  state.norm->load(norm);
  if (state.optimizer) {
    archive.read("optimizer", optimizer);
    state.optimizer->load(optimizer);
  }
  torch::Tensor generator, next, text, rows;
  archive.read("generator", generator);
  state.generator.set_state(generator);
  archive.read("next_iteration", next);
  state.next_iteration = static_cast<int>(next.item<int64_t>());
  archive.read("config", text);
  if (config != nullptr) *config = ParseConfigText(TensorText(text));
  archive.read("log", rows);
  torch::Tensor exported_static;
  state.exported_static =
      archive.try_read("exported_static", exported_static) &&
      exported_static.item<int64_t>() != 0;
  // The anchor table (absent from checkpoints of the 1 x 1 anchor's days:
  // the model's `anchor` buffer is the table then).
  torch::Tensor kind, budgets_usd, epochs, table, budgets;
  if (archive.try_read("anchor_kind", kind)) {
    state.anchor_kind = TensorText(kind);
  }
  if (archive.try_read("anchor_budgets_usd", budgets_usd)) {
    state.anchor_budgets_usd.assign(
        budgets_usd.data_ptr<double>(),
        budgets_usd.data_ptr<double>() + budgets_usd.numel());
  }
  if (archive.try_read("anchor_epochs", epochs)) {
    state.model->anchor_epochs = static_cast<int>(epochs.item<int64_t>());
  }
  if (archive.try_read("anchor_table", table) &&
      archive.try_read("anchor_budgets", budgets)) {
    state.model->SetAnchorTable(table, budgets, state.model->anchor_epochs);
  }
  state.log.clear();
  for (int64_t i = 0; i < rows.size(0); ++i) {
    IterationLog r;
    r.iteration = static_cast<int>(rows[i][0].item<double>());
    r.mean_return = rows[i][1].item<double>();
    r.mean_jct_s = rows[i][2].item<double>();
    r.mean_cost_usd = rows[i][3].item<double>();
    r.success_rate = rows[i][4].item<double>();
    r.entropy = rows[i][5].item<double>();
    r.env_steps_per_s = rows[i][6].item<double>();
    r.wall_s = rows[i][7].item<double>();
    r.env_steps = static_cast<int64_t>(rows[i][8].item<double>());
    state.log.push_back(r);
  }
  state.wall_s = state.log.empty() ? 0.0 : state.log.back().wall_s;
}

TrainingState NewState(const TrainerConfig& config, bool with_optimizer) {
  torch::manual_seed(config.seed);
  TrainingState state;
  state.model = ActorCritic(env::kObservationSize, kActionSize, config.hidden,
                            config.initial_log_std);
  state.norm = RunningNorm(env::kObservationSize);
  if (with_optimizer) {
    state.optimizer = std::make_unique<torch::optim::Adam>(
        state.model->parameters(),
        torch::optim::AdamOptions(config.learning_rate));
  }
  state.generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  return state;
}

torch::Tensor GaussianLogProb(const torch::Tensor& actions,
                              const torch::Tensor& mean,
                              const torch::Tensor& log_std) {
  const torch::Tensor z = (actions - mean) / torch::exp(log_std);
  return (-0.5 * z.pow(2) - log_std - 0.5 * std::log(2 * M_PI)).sum(-1);
}

// How a rollout acts: sampling from the Gaussian (training), its mean (the
// exported learned policy) or the anchor table alone (the exported static
// one).
enum class Acting { kSample, kMean, kAnchor };

// Collects one episode per env from `seeds` (one per env).
std::vector<Episode> Rollout(env::VectorEnv& vec, TrainingState& state,
                             const std::vector<uint64_t>& seeds, Acting acting,
                             int64_t* steps) {
  const int n = vec.num_envs();
  const int info_size = env::InfoSize();
  std::vector<float> obs(n * env::kObservationSize);
  vec.Reset(seeds.data(), obs.data());
  std::vector<double> rewards(n), info(static_cast<size_t>(n) * info_size);
  std::vector<char> terminated(n), truncated(n), info_valid(n);
  std::vector<double> actions(2 * n);
  env::VectorStepBuffers out;
  out.observations = obs.data();
  out.rewards = rewards.data();
  out.terminated = reinterpret_cast<bool*>(terminated.data());
  out.truncated = reinterpret_cast<bool*>(truncated.data());
  out.info = info.data();
  out.info_valid = reinterpret_cast<bool*>(info_valid.data());
  std::vector<Episode> episodes(n);
  std::vector<char> active(n, 1);
  const auto column = [](const std::string& name) {
    const auto& names = env::InfoNames();
    return std::find(names.begin(), names.end(), name) - names.begin();
  };
  const auto jct_column = column("cumulative_time_s");
  const auto cost_column = column("cumulative_cost_usd");
  const auto status_column = column("status");
  // Each episode's own budget (drawn per seed with job.budget_range).
  std::vector<double> budget_usd(n);
  for (int j = 0; j < n; ++j) {
    budget_usd[j] =
        sim::DrawEpisodeJob(vec.env(0).scenario(), seeds[j]).budget_usd;
  }
  int remaining = n;
  torch::NoGradGuard no_grad;
  while (remaining > 0) {
    const torch::Tensor x =
        torch::from_blob(obs.data(), {n, env::kObservationSize}).clone();
    const torch::Tensor normed = state.norm->Apply(x);
    const torch::Tensor mean = acting == Acting::kAnchor
                                   ? state.model->Anchor(x)
                                   : state.model->Mean(normed, x);
    const torch::Tensor action =
        acting == Acting::kSample
            ? mean + at::normal(0.0, 1.0, mean.sizes(), state.generator) *
                         torch::exp(state.model->log_std)
            : mean;
    const torch::Tensor log_prob =
        GaussianLogProb(action, mean, state.model->log_std);
    const torch::Tensor value = state.model->Value(normed);
    const torch::Tensor action64 = action.to(torch::kFloat64).contiguous();
    std::memcpy(actions.data(), action64.data_ptr(), sizeof(double) * 2 * n);
    vec.Step(actions.data(), out, reinterpret_cast<const bool*>(active.data()));
    for (int j = 0; j < n; ++j) {
      if (!active[j]) continue;
      Episode& e = episodes[j];
      e.observations.push_back(x[j]);
      e.actions.push_back(action[j]);
      e.log_probs.push_back(log_prob[j].item<float>());
      e.values.push_back(value[j].item<float>());
      e.rewards.push_back(rewards[j]);
      ++*steps;
      if (terminated[j] || truncated[j]) {
        const double* row = &info[static_cast<size_t>(j) * info_size];
        e.terminated = terminated[j];
        e.final_observation = torch::from_blob(&obs[j * env::kObservationSize],
                                               {env::kObservationSize})
                                  .clone();
        e.jct_s = row[jct_column];
        e.cost_usd = row[cost_column];
        e.success = row[status_column] ==
                    static_cast<double>(sim::JobStatus::kConverged);
        e.over_budget = e.cost_usd > budget_usd[j];
        active[j] = 0;
        --remaining;
      }
    }
  }
  return episodes;
}

// The deterministic policy (`acting` kMean or kAnchor) over `count`
// validation seeds, in batches of the vector env's size (the last padded
// with repeated seeds whose episodes are dropped).
ValidationSummary RunValidation(env::VectorEnv& vec, TrainingState& state,
                                Acting acting, int count) {
  ValidationSummary summary;
  const int n = vec.num_envs();
  int64_t steps = 0;
  for (int begin = 0; begin < count; begin += n) {
    std::vector<uint64_t> seeds(n);
    for (int j = 0; j < n; ++j) {
      seeds[j] = kFirstValidationSeed +
                 static_cast<uint64_t>(std::min(begin + j, count - 1));
    }
    const std::vector<Episode> episodes =
        Rollout(vec, state, seeds, acting, &steps);
    for (int j = 0; j < n && begin + j < count; ++j) {
      const Episode& e = episodes[j];
      ++summary.episodes;
      summary.successes += e.success ? 1 : 0;
      summary.over_budget += e.over_budget ? 1 : 0;
      summary.mean_jct_s += e.jct_s;
      summary.mean_cost_usd += e.cost_usd;
      summary.jct_s.push_back(e.jct_s);
      summary.succeeded.push_back(e.success);
    }
  }
  summary.mean_jct_s /= summary.episodes;
  summary.mean_cost_usd /= summary.episodes;
  return summary;
}

// Sets the model's anchor table (and the state's record of it) to `table`.
void InstallAnchorTable(TrainingState& state, const AnchorTable& table,
                        const std::string& kind) {
  const int64_t rows = table.rows(), columns = table.columns;
  torch::Tensor cells = torch::empty({rows, columns, kActionSize});
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < columns; ++c) {
      const auto& a = table.actions[r * columns + c];
      for (int i = 0; i < kActionSize; ++i) {
        cells[r][c][i] = static_cast<float>(a[i]);
      }
    }
  }
  state.model->SetAnchorTable(cells,
                              torch::tensor(table.budget_keys, torch::kFloat32),
                              table.max_epochs);
  state.anchor_kind = kind;
  state.anchor_budgets_usd = table.budgets_usd;
}

// The model's anchor table for siren.json: {"kind", "budgets_usd",
// "max_epochs", "rows": [[[n, m] per column] per row]}, decoded from the
// table's Box actions.
std::string AnchorTableJson(TrainingState& state,
                            const sim::Scenario& scenario) {
  const env::ActionCodec codec(scenario, env::ActionEncoding::kBox);
  const torch::Tensor table =
      state.model->anchor_table.defined()
          ? state.model->anchor_table
          : state.model->anchor.view({1, 1, kActionSize});
  std::string budgets, rows;
  for (double b : state.anchor_budgets_usd) {
    budgets += (budgets.empty() ? "" : ", ") + Exact(b);
  }
  for (int64_t r = 0; r < table.size(0); ++r) {
    std::string row;
    for (int64_t c = 0; c < table.size(1); ++c) {
      const double unit[2] = {table[r][c][0].item<double>(),
                              table[r][c][1].item<double>()};
      const env::DecodedAction a = codec.Decode(unit);
      row += (row.empty() ? "[" : ", [") + std::to_string(a.functions) + ", " +
             std::to_string(a.memory_mb) + "]";
    }
    rows += (rows.empty() ? "[" : ", [") + row + "]";
  }
  return "{\"kind\": \"" + state.anchor_kind + "\", \"budgets_usd\": [" +
         budgets +
         "], \"max_epochs\": " + std::to_string(state.model->anchor_epochs) +
         ", \"rows\": [" + rows + "]}";
}

// Refuses to overwrite a run unless --force (which removes its files) and to
// resume without a checkpoint; creates the folder.
void PrepareRunFolder(const TrainerConfig& config) {
  namespace fs = std::filesystem;
  const fs::path dir(config.out_dir);
  if (config.resume && config.force) {
    throw std::invalid_argument(
        "--resume and --force: give one (--resume continues the run in '" +
        config.out_dir + "', --force replaces it)");
  }
  if (fs::exists(dir) && !fs::is_directory(dir)) {
    throw std::invalid_argument("--out: '" + config.out_dir +
                                "' is a file; expected a folder for the run");
  }
  if (config.resume) {
    if (!fs::is_regular_file(dir / "checkpoint.pt")) {
      throw std::invalid_argument(
          "--resume: no checkpoint in '" + config.out_dir + "' (expected " +
          (dir / "checkpoint.pt").string() +
          " from an earlier siren train --out " + config.out_dir +
          "; a run killed before its first checkpoint starts again with "
          "--force)");
    }
    return;
  }
  std::string found;
  for (const std::string& name : kRunFiles) {
    if (fs::exists(dir / name)) found += (found.empty() ? "" : ", ") + name;
  }
  if (!found.empty() && !config.force) {
    throw std::invalid_argument(
        "--out: '" + config.out_dir + "' already holds a training run (" +
        found +
        "); give --resume to continue it, --force to replace it, or another "
        "--out");
  }
  for (const std::string& name : kRunFiles) {
    fs::remove(dir / name);
    fs::remove(dir / (name + ".tmp"));
  }
  fs::remove_all(dir / "snapshots");  // A replaced run's policy snapshots.
  fs::create_directories(dir);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

std::vector<IterationLog> Train(
    const TrainerConfig& config,
    const std::function<void(const IterationLog&)>& on_iteration,
    TrainReport* report) {
  Validate(config);
  TrainReport local_report;
  if (report == nullptr) report = &local_report;
  auto scenario = std::make_shared<const sim::Scenario>(
      sim::LoadScenario(config.scenario, config.overrides));
  torch::set_num_threads(1);
  const auto settings = ConfigAttributes(config, *scenario);
  const std::string checkpoint = config.out_dir + "/checkpoint.pt";
  PrepareRunFolder(config);
  TrainingState state = NewState(config, /*with_optimizer=*/true);
  if (config.resume) {
    std::map<std::string, std::string> saved;
    LoadCheckpoint(checkpoint, state, &saved);
    CheckResumable(config.out_dir, saved, settings);
    if (config.iterations < state.next_iteration) {
      throw std::invalid_argument(
          "--iterations: got " + std::to_string(config.iterations) +
          ", but the run in '" + config.out_dir + "' has already done " +
          std::to_string(state.next_iteration) +
          " iterations; expected at least " +
          std::to_string(state.next_iteration) +
          " (the total to reach, not how many more)");
    }
  }

  // The anchor table; deterministic, so a resumed run finds the anchor its
  // checkpoint holds.
  AnchorTable oracle_table, schedule_table;
  if (config.anchor != "none") {
    const auto search_start = std::chrono::steady_clock::now();
    oracle_table =
        ComputeOracleAnchorTable(*scenario, config.anchor_budgets,
                                 config.tuning_seeds, config.num_threads);
    if (RefinesAnchorTable(config, *scenario)) {
      oracle_table = RefineOracleAnchorTable(
          *scenario, oracle_table, config.anchor_gap, config.tuning_seeds,
          config.num_threads, config.anchor_cliff_search);
    }
    if (config.anchor == "schedule") {
      schedule_table = ComputeScheduleAnchorTable(
          *scenario, oracle_table, config.tuning_seeds, config.num_threads,
          ScheduleSearchOptions{});
    }
    const AnchorTable& used =
        config.anchor == "schedule" ? schedule_table : oracle_table;
    InstallAnchorTable(state, used, config.anchor);
    report->anchored = true;
    report->anchor_functions = oracle_table.at(0, 0).functions;
    report->anchor_memory_mb = oracle_table.at(0, 0).memory_mb;
    report->anchor_description = DescribeAnchorTable(used, config.anchor);
    if (config.anchor == "schedule" || used.rows() > 1) {
      report->anchor_table_json = AnchorTableJson(state, *scenario);
    }
    report->anchor_search_s = SecondsSince(search_start);
  }
  env::VectorEnv vec(scenario, config.num_envs, env::ActionEncoding::kBox,
                     env::AutoresetMode::kNextStep, config.num_threads);
  const auto attributes = LogAttributes(config, *scenario);
  int64_t total_steps = state.log.empty() ? 0 : state.log.back().env_steps;
  // The deterministic learned policy after `done` iterations (snapshot_every).
  auto snapshot = [&](int done) {
    const std::filesystem::path dir =
        std::filesystem::path(config.out_dir) / "snapshots";
    std::filesystem::create_directories(dir);
    const std::string path =
        (dir / ("policy_" + std::to_string(done) + ".pt")).string();
    WithTorchErrors("cannot write the policy snapshot '" + path + "'", "", [&] {
      ExportPolicy(state.model, state.norm, Metadata(*scenario, *report), path);
    });
  };
  if (config.snapshot_every > 0 && state.next_iteration == 0) snapshot(0);
  for (int it = state.next_iteration; it < config.iterations; ++it) {
    const auto start = std::chrono::steady_clock::now();
    if (config.lr_schedule == "linear") {
      const double lr = config.learning_rate *
                        (1.0 - static_cast<double>(it) / config.iterations);
      for (auto& group : state.optimizer->param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      }
    }
    int64_t steps = 0;
    std::vector<uint64_t> seeds(config.num_envs);
    for (int j = 0; j < config.num_envs; ++j) {
      seeds[j] = EnvSeed(config.seed, it, j);
    }
    std::vector<Episode> episodes =
        Rollout(vec, state, seeds, Acting::kSample, &steps);
    const double rollout_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();

    // Advantages (GAE) and returns per episode, then one flat batch.
    std::vector<torch::Tensor> obs_list, act_list;
    std::vector<float> old_log_probs, advantages, returns;
    double return_sum = 0, jct_sum = 0, cost_sum = 0, successes = 0;
    for (Episode& e : episodes) {
      const size_t t_max = e.rewards.size();
      double bootstrap = 0;
      if (!e.terminated) {
        torch::NoGradGuard no_grad;
        bootstrap =
            state.model
                ->Value(state.norm->Apply(e.final_observation.unsqueeze(0)))
                .item<float>();
      }
      std::vector<float> adv(t_max);
      double next_value = bootstrap, gae = 0;
      const double lambda = config.algorithm == "ppo" ? config.gae_lambda : 1.0;
      for (size_t t = t_max; t-- > 0;) {
        const double delta =
            e.rewards[t] + config.gamma * next_value - e.values[t];
        gae = delta + config.gamma * lambda * gae;
        adv[t] = static_cast<float>(gae);
        next_value = e.values[t];
      }
      for (size_t t = 0; t < t_max; ++t) {
        obs_list.push_back(e.observations[t]);
        act_list.push_back(e.actions[t]);
        old_log_probs.push_back(e.log_probs[t]);
        advantages.push_back(adv[t]);
        returns.push_back(adv[t] + e.values[t]);
        return_sum += e.rewards[t];
      }
      jct_sum += e.jct_s;
      cost_sum += e.cost_usd;
      successes += e.success ? 1 : 0;
    }
    const torch::Tensor obs_raw = torch::stack(obs_list);
    const torch::Tensor obs_batch = state.norm->Apply(obs_raw);
    const torch::Tensor act_batch = torch::stack(act_list);
    const torch::Tensor old_lp = torch::tensor(old_log_probs);
    torch::Tensor adv_batch = torch::tensor(advantages);
    const torch::Tensor ret_batch = torch::tensor(returns);
    adv_batch = (adv_batch - adv_batch.mean()) / (adv_batch.std() + 1e-8);
    const int64_t size = obs_batch.size(0);

    // The update.
    auto loss_on = [&](const torch::Tensor& idx) {
      const torch::Tensor x = obs_batch.index_select(0, idx);
      const torch::Tensor lp =
          GaussianLogProb(act_batch.index_select(0, idx),
                          state.model->Mean(x, obs_raw.index_select(0, idx)),
                          state.model->log_std);
      const torch::Tensor a = adv_batch.index_select(0, idx);
      torch::Tensor policy_loss;
      if (config.algorithm == "ppo") {
        const torch::Tensor ratio =
            torch::exp(lp - old_lp.index_select(0, idx));
        policy_loss =
            -torch::min(
                 ratio * a,
                 torch::clamp(ratio, 1 - config.clip, 1 + config.clip) * a)
                 .mean();
      } else {
        policy_loss = -(lp * a).mean();
      }
      const torch::Tensor value_loss =
          (state.model->Value(x) - ret_batch.index_select(0, idx))
              .pow(2)
              .mean();
      const torch::Tensor entropy =
          (state.model->log_std + 0.5 * std::log(2 * M_PI * M_E)).sum();
      return policy_loss + config.value_coef * value_loss -
             config.entropy_coef * entropy;
    };
    const int passes = config.algorithm == "ppo" ? config.ppo_epochs : 1;
    for (int pass = 0; pass < passes; ++pass) {
      const torch::Tensor order = config.algorithm == "ppo"
                                      ? torch::randperm(size, state.generator)
                                      : torch::arange(size);
      const int64_t step = config.algorithm == "ppo" ? config.minibatch : size;
      for (int64_t begin = 0; begin < size; begin += step) {
        const torch::Tensor idx =
            order.slice(0, begin, std::min(size, begin + step));
        state.optimizer->zero_grad();
        loss_on(idx).backward();
        torch::nn::utils::clip_grad_norm_(state.model->parameters(),
                                          config.max_grad_norm);
        state.optimizer->step();
      }
    }
    // The normaliser learns from this rollout for the next one.
    state.norm->Update(obs_raw);

    // Log, checkpoint.
    total_steps += steps;
    const double iteration_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    state.wall_s += iteration_s;
    IterationLog row;
    row.iteration = it;
    row.mean_return = return_sum / config.num_envs;
    row.mean_jct_s = jct_sum / config.num_envs;
    row.mean_cost_usd = cost_sum / config.num_envs;
    row.success_rate = successes / config.num_envs;
    row.entropy = (state.model->log_std + 0.5 * std::log(2 * M_PI * M_E))
                      .sum()
                      .item<double>();
    row.env_steps_per_s = rollout_s > 0 ? steps / rollout_s : 0.0;
    row.wall_s = state.wall_s;
    row.env_steps = total_steps;
    state.log.push_back(row);
    state.next_iteration = it + 1;
    if (on_iteration) on_iteration(row);
    WriteTrainLog(config.out_dir + "/log.h5", state.log, attributes);
    if ((it + 1) % config.checkpoint_every == 0 ||
        it + 1 == config.iterations) {
      SaveCheckpoint(checkpoint, settings, state);
    }
    const bool capped =
        config.max_train_s > 0 &&
        report->anchor_search_s + state.wall_s >= config.max_train_s;
    if (capped && (it + 1) % config.checkpoint_every != 0) {
      SaveCheckpoint(checkpoint, settings, state);
    }
    if (config.snapshot_every > 0 && ((it + 1) % config.snapshot_every == 0 ||
                                      it + 1 == config.iterations || capped)) {
      snapshot(it + 1);
    }
    if (capped) break;
  }
  // The safeguard: the learned policy is exported only when it is no worse
  // than the anchor alone on the validation seeds. With the schedule anchor,
  // the anchor is first compared with the plain oracle static table the same
  // way; the better of the two is the fixed policy the learned one must
  // match, and the one exported when it does not.
  bool static_only = false;
  std::string fixed_name =
      config.anchor == "schedule" ? "schedule" : "oracle static";
  if (config.anchor != "none" && config.safeguard) {
    const auto validation_start = std::chrono::steady_clock::now();
    const ValidationSummary learned =
        RunValidation(vec, state, Acting::kMean, config.validation_seeds);
    ValidationSummary fixed =
        RunValidation(vec, state, Acting::kAnchor, config.validation_seeds);
    if (config.anchor == "schedule") {
      InstallAnchorTable(state, oracle_table, "oracle");
      const ValidationSummary plain =
          RunValidation(vec, state, Acting::kAnchor, config.validation_seeds);
      const bool keep_schedule = LearnedIsNoWorse(fixed, plain);
      report->anchor_check = DescribeAnchorCheck(fixed, plain, keep_schedule);
      if (keep_schedule) {
        InstallAnchorTable(state, schedule_table, "schedule");
      } else {
        fixed = plain;
        fixed_name = "oracle static";
      }
      static_only = !LearnedIsNoWorse(learned, fixed, config.safeguard_z,
                                      config.safeguard_max_slowdown);
      if (!static_only && !keep_schedule) {
        // The learned residual was trained on the schedule table.
        InstallAnchorTable(state, schedule_table, "schedule");
      }
    } else {
      static_only = !LearnedIsNoWorse(learned, fixed, config.safeguard_z,
                                      config.safeguard_max_slowdown);
    }
    report->safeguard_s = SecondsSince(validation_start);
    state.exported_static = static_only;
    SaveCheckpoint(checkpoint, settings, state);  // Export reads the choice.
    report->validated = true;
    report->exported_learned = !static_only;
    report->exported_anchor = fixed_name;
    report->anchor_table_json =
        config.anchor == "oracle" && state.anchor_budgets_usd.size() == 1
            ? ""
            : AnchorTableJson(state, *scenario);
    report->safeguard =
        DescribeSafeguard(learned, fixed, !static_only, fixed_name,
                          config.safeguard_z, config.safeguard_max_slowdown);
  }
  const std::string policy = config.out_dir + "/policy.pt";
  WithTorchErrors("cannot write the policy '" + policy + "'", "", [&] {
    ExportPolicy(state.model, state.norm, Metadata(*scenario, *report), policy,
                 static_only);
  });
  return state.log;
}

void ExportCheckpoint(const std::string& checkpoint, const std::string& out) {
  // The architecture comes from the checkpoint's own configuration.
  if (!std::filesystem::is_regular_file(checkpoint)) {
    throw std::invalid_argument("checkpoint: '" + checkpoint + "' not found");
  }
  const std::string not_a_checkpoint =
      "checkpoint: '" + checkpoint +
      "' is not a checkpoint written by siren train";
  const std::string expected = "; expected DIR/checkpoint.pt of a training run";
  const auto saved = WithTorchErrors(not_a_checkpoint, expected, [&] {
    torch::serialize::InputArchive archive;
    archive.load_from(checkpoint);
    torch::Tensor text;
    archive.read("config", text);
    return ParseConfigText(TensorText(text));
  });
  for (const char* key : {"scenario", "overrides", "hidden", "seed"}) {
    if (saved.count(key) == 0) {
      throw std::invalid_argument(not_a_checkpoint +
                                  " (its configuration "
                                  "lacks '" +
                                  key + "')" + expected);
    }
  }
  TrainerConfig config;
  config.scenario = saved.at("scenario");
  config.overrides = SplitLines(saved.at("overrides"));
  config.hidden = std::stoi(saved.at("hidden"));
  config.seed = std::stoull(saved.at("seed"));
  TrainingState state = NewState(config, /*with_optimizer=*/false);
  LoadCheckpoint(checkpoint, state, nullptr);
  // The scenario as trained: the merged YAML when the checkpoint has it (a
  // scenario file may have changed or gone since).
  const sim::Scenario scenario =
      saved.count("scenario_yaml")
          ? sim::ParseScenario(saved.at("scenario_yaml"), {}, "checkpoint")
          : sim::LoadScenario(config.scenario, config.overrides);
  WithTorchErrors("--out: cannot write '" + out + "'", "", [&] {
    TrainReport report;
    report.exported_learned = !state.exported_static;
    if (saved.count("anchor") && saved.at("anchor") != "none") {
      const double unit[2] = {state.model->anchor[0].item<double>(),
                              state.model->anchor[1].item<double>()};
      const env::DecodedAction anchor =
          env::ActionCodec(scenario, env::ActionEncoding::kBox).Decode(unit);
      report.anchored = true;
      report.anchor_functions = anchor.functions;
      report.anchor_memory_mb = anchor.memory_mb;
      report.exported_anchor =
          state.anchor_kind == "schedule" ? "schedule" : "oracle static";
      if (saved.at("anchor") == "schedule" ||
          state.model->anchor_table.defined()) {
        report.anchor_table_json = AnchorTableJson(state, scenario);
      }
    }
    ExportPolicy(state.model, state.norm, Metadata(scenario, report), out,
                 state.exported_static);
  });
}

}  // namespace siren::agent
