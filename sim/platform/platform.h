// The serverless platform a job runs on: what a function of a given memory
// size gets (CPU, network), how long it takes to start, how many may run at
// once, how long one may run, and what an invocation costs. A new cloud or a
// new generation of one is a new implementation in its own folder,
// registered by name (`platform.model` in a scenario), with its own section
// of the parameter table. The reference to copy is aws_lambda/.
//
// Contract (every implementation):
// - It is immutable once built and shared by every job of a scenario; all
//   methods are const and thread-safe. Randomness comes only from the Rng
//   passed in, so the same seed gives the same job.
// - Memory sizes are in MB on an ascending grid, MemoryGrid(); the engine
//   and the env never invent a size off it.
// - Times are in seconds, money in US dollars.
// - Bill() is the exact charge of one invocation that ran `duration` at
//   `memory_mb` (start to end of its handler, plus whatever start-up phase
//   the platform bills): the engine sums these, and the S3 request charges,
//   into the epoch's cost, so the cost of a job is the sum of its bills.
#ifndef SIREN_SIM_PLATFORM_PLATFORM_H_
#define SIREN_SIM_PLATFORM_PLATFORM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/event_queue.h"
#include "sim/core/rng.h"
#include "sim/scenario/param_table.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// The charge of one invocation.
struct InvocationBill {
  SimTime billed = 0;       // Billed duration (rounded as the platform does).
  double gb_s = 0;          // Billed GB-seconds.
  double duration_usd = 0;  // Duration charge.
  double request_usd = 0;   // Per-invocation charge.
};

// Limits on starting and running functions.
struct ConcurrencyRules {
  int limit = 0;                       // Functions running at once (429 above).
  double throttle_backoff_base_s = 0;  // First retry delay after a 429.
  double throttle_backoff_cap_s = 0;   // Longest retry delay.
};

// The scaling-rate limit on new execution environments: a token bucket of
// `burst` tokens refilled continuously at `refill_per_s` (never above
// `burst`); a cold start takes a token, and without one the invocation is
// throttled (429) like one over the concurrency limit. burst 0: no limit.
struct ScalingRules {
  int burst = 0;
  double refill_per_s = 0;
};

// The linear prices behind Bill(), for bounds on what is being spent while
// invocations run: Bill(d, m) costs request_usd plus usd_per_s x the billed
// duration, which is d rounded up to a multiple of granularity_s.
struct BillingRates {
  double usd_per_s = 0;  // Duration price at this memory size, USD/s.
  double request_usd = 0;
  double granularity_s = 0;
};

// Lifetime of execution environments between invocations.
struct SandboxRules {
  double keep_alive_s = 0;         // An idle warm instance expires after this.
  bool cold_after_timeout = true;  // A timed-out instance is recycled.
  // One deployed function reconfigured per memory change: a change retires
  // every warm instance. False: one function per memory size.
  bool single_function = false;
};

class Platform {
 public:
  virtual ~Platform() = default;

  // The registered name (`platform.model`), e.g. "aws_lambda".
  virtual std::string name() const = 0;

  // ---- Memory sizes ------------------------------------------------------
  // Every memory size a function can be given, ascending, non-empty.
  virtual const std::vector<int>& MemoryGrid() const = 0;
  // True when `memory_mb` is on the grid (binary search by default).
  virtual bool IsOnMemoryGrid(int memory_mb) const;
  // One line naming the grid for error messages, e.g. "a size in [128,
  // 10240] MB in steps of 1 MB from 128".
  virtual std::string DescribeMemoryGrid() const = 0;

  // ---- Resources by memory ----------------------------------------------
  // vCPUs (possibly fractional) of a function of `memory_mb`.
  virtual double Vcpus(int memory_mb) const = 0;
  // Median seconds to compute the gradient of one mini-batch of `workload`.
  virtual double ComputeSecondsPerBatch(const WorkloadSpec& workload,
                                        int memory_mb) const = 0;
  // Log-normal sigma of one batch's compute time around that median.
  virtual double compute_noise_sigma() const = 0;
  // Network bandwidth of one function, MB/s.
  virtual double BandwidthMbPerS(int memory_mb) const = 0;

  // ---- Starts and limits -------------------------------------------------
  // Seconds from invoke to handler start when no warm instance is reused,
  // for a deployment package of `package_mb`.
  virtual double SampleColdStartS(int memory_mb, double package_mb,
                                  Rng& rng) const = 0;
  // Seconds from invoke to handler start on a warm instance.
  virtual double SampleWarmStartS(Rng& rng) const = 0;
  // Longest invocation, s; longer work is cut.
  virtual double timeout_s() const = 0;
  virtual ConcurrencyRules concurrency() const = 0;
  virtual SandboxRules sandboxes() const = 0;
  // The scaling-rate limit (default: none).
  virtual ScalingRules scaling() const { return {}; }

  // ---- Money -------------------------------------------------------------
  // True when the INIT phase of a cold start is billed with the invocation
  // (a measured INIT duration is then added to the billed time).
  virtual bool bills_init() const { return false; }
  // The part of a cold start of `cold_start_s` (as sampled, for a package of
  // `package_mb`) that is billed with the invocation, in [0, cold_start_s]:
  // the INIT phase where the platform bills it (default: nothing).
  virtual double BilledInitS(double cold_start_s, double package_mb) const {
    (void)cold_start_s;
    (void)package_mb;
    return 0;
  }
  // The charge of one invocation whose billable time is `duration` (the
  // handler's run plus the billed INIT phase).
  virtual InvocationBill Bill(SimTime duration, int memory_mb) const = 0;
  // The prices behind Bill at `memory_mb` (see BillingRates): Bill(d) must
  // lie in [request + d x usd_per_s, request + (d + granularity_s) x
  // usd_per_s] (the conformance test checks it).
  virtual BillingRates Rates(int memory_mb) const = 0;
};

// ---- Helpers every implementation may use ---------------------------------

// ceil(duration / granularity) * granularity, exact in integer nanoseconds.
// A zero duration bills zero; any positive duration bills at least one unit.
SimTime BilledDuration(SimTime duration, SimTime granularity);

// GB-seconds of a billed duration at `memory_mb` (GB = 1024 MB).
double GbSeconds(SimTime billed, int memory_mb);

// Memory one function needs for the scenario's workload: runtime + model
// copies + one mini-batch, in MB (independent of the platform).
double MemoryNeedMb(const Scenario& scenario);

// The smallest grid size >= MemoryNeedMb, or -1 when even the largest is too
// small.
int MinFeasibleMemoryMb(const Platform& platform, const Scenario& scenario);

// Empty when `memory_mb` can run the workload on `platform`; otherwise a
// message naming the value and what was expected (off-grid or below need).
std::string MemoryError(const Platform& platform, const Scenario& scenario,
                        int memory_mb);

// The same for the platform the scenario selects (built for the call; hold a
// Platform from MakePlatform in loops).
std::vector<int> MemoryGrid(const Scenario& scenario);
int MinFeasibleMemoryMb(const Scenario& scenario);
std::string MemoryError(const Scenario& scenario, int memory_mb);

// ---- Registry ---------------------------------------------------------------

using PlatformFactory =
    std::function<std::shared_ptr<const Platform>(const Scenario&)>;

// Registers platform `name` with its parameter section (its `implements` is
// set to {"platform.model", name}) and factory. Returns true (for a static
// initialiser). Throws std::logic_error on a duplicate name.
bool RegisterPlatform(const std::string& name, ParamSection section,
                      PlatformFactory factory);

// Names of the registered platforms, sorted.
std::vector<std::string> PlatformNames();

// Builds the platform the scenario selects (scenario.models.platform).
// Throws ScenarioError naming platform.model for an unknown name.
std::shared_ptr<const Platform> MakePlatform(const Scenario& scenario);

}  // namespace siren::sim

#endif  // SIREN_SIM_PLATFORM_PLATFORM_H_
