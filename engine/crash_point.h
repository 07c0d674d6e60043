#pragma once

namespace papr::engine {

// Test-only deterministic crashes: with PAPR_CRASH_AT=NAME:N in the environment, the N-th time
// the point NAME is reached the process exits at once with _exit(137), as a kill -9 would
// leave it. Named points: after_start_commit, after_commit, before_commit, after_accept_reply.
// Costs one relaxed atomic load when unset.
void CrashPoint(const char* name);

}  // namespace papr::engine
