#pragma once

// Running engine-admin (tools/engine_admin) from integration tests.

#include <memory>
#include <string>
#include <vector>

#include <simdjson.h>

#include "tests/integration/server_process.h"

namespace papr::integration {

std::string AdminBinary();

struct AdminRun {
  int exit_code = -1;  // 128+signal if killed; -1 if it could not run or timed out
  std::string out, err;

  std::string Describe() const {
    return "exit " + std::to_string(exit_code) + "\nstdout: " + out.substr(0, 4000) +
           "\nstderr: " + err.substr(0, 4000);
  }
  // stdout parsed as JSON (throws on invalid JSON: a test failure).
  simdjson::dom::element Json() const {
    if (!parser_) parser_ = std::make_shared<simdjson::dom::parser>();
    return parser_->parse(out).value();
  }

 private:
  mutable std::shared_ptr<simdjson::dom::parser> parser_;
};

// fork/exec of engine-admin with `args`; stdout and stderr go to files of a temp dir. The child
// gets this process's environment without PAPR_* variables, plus `extra_env`. Killed after 60 s.
AdminRun RunAdmin(const std::vector<std::string>& args, const EnvVars& extra_env = {});

}  // namespace papr::integration
