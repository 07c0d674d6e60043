#pragma once

namespace papr::engine {

// Test-only deterministic crashes: with PAPR_CRASH_AT=NAME:N in the environment, the N-th time
// the point NAME is reached the process exits at once with _exit(137), as a kill -9 would
// leave it. Named points: after_start_commit, after_commit, before_commit, after_accept_reply,
// after_parent_close_commit (a parent's closing commit that recorded requests to children).
// Costs one relaxed atomic load when unset.
void CrashPoint(const char* name);

// Test-only: with PAPR_TEST_RECOVERY_DELAY_MS=N, recovery starts N ms late, so tests can send
// requests while the server is up and not yet ready.
void RecoveryDelayForTest();

}  // namespace papr::engine
