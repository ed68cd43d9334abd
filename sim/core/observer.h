// Simulator signals (SimGrid's s4u callbacks habit): logging, tracing and
// metrics subscribe to these hooks instead of reaching into the engine.
// Every hook has an empty default, so an observer overrides only what it
// needs. Hooks run synchronously inside the event loop, in simulated-time
// order; they must not call back into the Simulation.
#ifndef SIREN_SIM_CORE_OBSERVER_H_
#define SIREN_SIM_CORE_OBSERVER_H_

#include <cstdint>

#include "sim/core/epoch_result.h"

namespace siren::sim {

class Observer {
 public:
  virtual ~Observer() = default;

  // The epoch `epoch` starts at simulated time `time_s` with `action`.
  virtual void OnEpochStart(int /*epoch*/, double /*time_s*/,
                            const Action& /*action*/) {}
  // The epoch ended (the barrier was reached); `result` is final.
  virtual void OnEpochEnd(const EpochResult& /*result*/) {}
  // Function `function` began running an invocation (after its start
  // latency); `cold` tells whether it paid a cold start.
  virtual void OnInvocationStart(int /*function*/, double /*time_s*/,
                                 bool /*cold*/) {}
  // The invocation ended after `billed_s` billed seconds; `timed_out` when it
  // was cut at the timeout.
  virtual void OnInvocationEnd(int /*function*/, double /*time_s*/,
                               double /*billed_s*/, bool /*timed_out*/) {}
  // A cold start was drawn for `function`, lasting `latency_s`.
  virtual void OnColdStart(int /*function*/, double /*time_s*/,
                           double /*latency_s*/) {}
  // An invoke call for `function` was throttled (429); it retries at
  // `retry_at_s`.
  virtual void OnThrottle(int /*function*/, double /*time_s*/,
                          double /*retry_at_s*/) {}
  // An update from `function` was applied as parameter version `version`
  // with the given staleness (`function` is -1 for a BSP round's aggregate).
  virtual void OnUpdateApplied(int /*function*/, double /*time_s*/,
                               int64_t /*version*/, int64_t /*staleness*/) {}
};

}  // namespace siren::sim

#endif  // SIREN_SIM_CORE_OBSERVER_H_
