// siren-agent: the libtorch trainer's command line (torch-free translation
// unit; the Python `siren train` and `siren export` call it).
//   siren-agent train [--scenario S] [--algorithm ppo|reinforce]
//                     [--iterations N] [--envs N] [--threads N] [--seed S]
//                     [--out DIR] [--resume | --force] [--stop-after N]
//                     [--anchor oracle|schedule|none] [--anchor-budgets K]
//                     [--no-safeguard] [--snapshot-every N]
//                     [--max-train-s S] ...
//                     [key=value ...]
//   siren-agent export --checkpoint DIR/checkpoint.pt --out policy.pt
//   siren-agent act --policy policy.pt < observations > actions
//     (raw float32: [B, 12] in, [B, 2] out; for parity checks)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "agent/trainer/trainer.h"

namespace {

// Thrown by the progress callback to stop a run early (for resume tests).
struct StopRequested {};

int Train(siren::agent::TrainerConfig& config, int stop_after) {
  if (!config.quiet) {
    std::printf("%5s %10s %9s %9s %7s %8s %9s %8s\n", "iter", "return", "jct_s",
                "cost_usd", "success", "entropy", "steps/s", "wall_s");
  }
  int seen = 0;
  siren::agent::TrainReport report;
  try {
    siren::agent::Train(
        config,
        [&](const siren::agent::IterationLog& r) {
          if (!config.quiet) {
            std::printf("%5d %10.4f %9.1f %9.4f %7.2f %8.3f %9.0f %8.1f\n",
                        r.iteration, r.mean_return, r.mean_jct_s,
                        r.mean_cost_usd, r.success_rate, r.entropy,
                        r.env_steps_per_s, r.wall_s);
            std::fflush(stdout);
          }
          if (stop_after > 0 && ++seen >= stop_after) throw StopRequested{};
        },
        &report);
  } catch (const StopRequested&) {
    std::printf("stopped after %d iterations\n", seen);
    return 0;
  }
  if (report.anchored) {
    std::printf("anchor: %s\n", report.anchor_description.c_str());
  }
  if (!report.anchor_check.empty()) {
    std::printf("%s\n", report.anchor_check.c_str());
  }
  if (report.validated) std::printf("%s\n", report.safeguard.c_str());
  std::printf("anchor_search_s=%.3f safeguard_s=%.3f\n", report.anchor_search_s,
              report.safeguard_s);
  std::printf(
      "policy=%s/policy.pt\nlog=%s/log.h5\ncheckpoint=%s/checkpoint.pt\n",
      config.out_dir.c_str(), config.out_dir.c_str(), config.out_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Siren's libtorch scheduler trainer"};
  app.require_subcommand(1);
  siren::agent::TrainerConfig config;
  int stop_after = 0;
  CLI::App* train =
      app.add_subcommand("train", "train a policy on the simulator");
  train->add_option("--scenario", config.scenario, "preset name or YAML file");
  train->add_option("--algorithm", config.algorithm, "ppo or reinforce")
      ->check(CLI::IsMember({"ppo", "reinforce"}));
  train->add_option("--iterations", config.iterations, "training iterations");
  train->add_option("--envs", config.num_envs,
                    "parallel envs (episodes per iteration)");
  train->add_option("--threads", config.num_threads, "env stepping threads");
  train->add_option("--seed", config.seed, "random seed");
  train->add_option("--hidden", config.hidden, "units per hidden layer");
  train->add_option("--lr", config.learning_rate, "Adam learning rate");
  train->add_option("--gamma", config.gamma, "discount factor");
  train->add_option("--entropy-coef", config.entropy_coef, "entropy bonus");
  train->add_option("--ppo-epochs", config.ppo_epochs,
                    "PPO passes per iteration");
  train->add_option("--minibatch", config.minibatch, "PPO minibatch size");
  train->add_option("--initial-log-std", config.initial_log_std,
                    "initial log std of the Gaussian (box units)");
  train
      ->add_option("--anchor", config.anchor,
                   "oracle: the mean is the oracle static action (per budget "
                   "with job.budget_range) plus a learned residual; "
                   "schedule: the best open-loop per-epoch schedule searched "
                   "from it; none: the box's centre")
      ->check(CLI::IsMember({"oracle", "schedule", "none"}));
  train->add_option("--anchor-budgets", config.anchor_budgets,
                    "grid budgets of the anchor table over job.budget_range");
  train->add_option("--anchor-gap", config.anchor_gap,
                    "oracle anchor with job.budget_range: add rows between "
                    "grid budgets until neighbours' JCTs differ by at most "
                    "this share (0: the grid budgets alone)");
  train->add_flag("!--no-anchor-cliff-search", config.anchor_cliff_search,
                  "refine without the cliff search (projected configurations "
                  "of the rows above; rows below a cost cliff searched again)");
  train->add_option("--tuning-seeds", config.tuning_seeds,
                    "seeds 0..k-1 of the anchor's oracle static search");
  train->add_option("--validation-seeds", config.validation_seeds,
                    "episodes of the safeguard's comparison");
  train->add_option("--safeguard-z", config.safeguard_z,
                    "confidence of the safeguard: more successes must pass a "
                    "one-sided sign test at P(Z > z); otherwise the learned "
                    "policy needs a mean JCT faster on the seeds both "
                    "finished by z paired standard errors (0: no margin)");
  train->add_option("--safeguard-max-slowdown", config.safeguard_max_slowdown,
                    "slowdown on the seeds both finished accepted from a "
                    "learned policy that finishes more jobs beyond chance "
                    "(0.01: 1 %)");
  train->add_flag("!--no-safeguard", config.safeguard,
                  "export the learned policy even when the oracle static "
                  "action does better on the validation seeds");
  train
      ->add_option("--lr-schedule", config.lr_schedule,
                   "linear (decay to 0) or constant")
      ->check(CLI::IsMember({"linear", "constant"}));
  train->add_option("--checkpoint-every", config.checkpoint_every,
                    "iterations between checkpoints");
  train->add_option("--snapshot-every", config.snapshot_every,
                    "also write the deterministic learned policy to "
                    "OUT/snapshots/policy_<k>.pt every N iterations (0: "
                    "none)");
  train->add_option("--max-train-s", config.max_train_s,
                    "stop iterating once the anchor search and the "
                    "iterations have taken this many seconds (0: no cap)");
  train->add_option("--out", config.out_dir, "output directory");
  train->add_flag("--resume", config.resume, "continue from OUT/checkpoint.pt");
  train->add_flag("--force", config.force,
                  "replace the run in OUT (by default a run is never "
                  "overwritten)");
  train->add_flag("--quiet", config.quiet, "no per-iteration table");
  train->add_option("--stop-after", stop_after,
                    "stop after this many iterations of this invocation "
                    "(simulates a killed run)");
  train->add_option("overrides", config.overrides,
                    "scenario key=value overrides");

  std::string checkpoint, out;
  CLI::App* export_cmd = app.add_subcommand(
      "export", "export a checkpoint's policy as TorchScript");
  export_cmd->add_option("--checkpoint", checkpoint, "checkpoint.pt")
      ->required();
  export_cmd->add_option("--out", out, "output .pt path")->required();

  std::string policy;
  CLI::App* act = app.add_subcommand(
      "act", "run an exported policy on raw float32 observations from stdin");
  act->add_option("--policy", policy, "policy.pt")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*train) return Train(config, stop_after);
    if (*act) {
      std::vector<float> observations;
      float buffer[1024];
      size_t read;
      while ((read = std::fread(buffer, sizeof(float), 1024, stdin)) > 0) {
        observations.insert(observations.end(), buffer, buffer + read);
      }
      const std::vector<float> actions =
          siren::agent::RunExportedPolicy(policy, observations);
      std::fwrite(actions.data(), sizeof(float), actions.size(), stdout);
      return 0;
    }
    siren::agent::ExportCheckpoint(checkpoint, out);
    std::printf("policy=%s\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {
    // `siren train|export` set SIREN_AGENT_PROG=siren, so that the user
    // sees the command they typed.
    const char* prog = std::getenv("SIREN_AGENT_PROG");
    std::fprintf(stderr, "%s: error: %s\n",
                 prog != nullptr && *prog ? prog : "siren-agent", e.what());
    return 2;
  }
}
