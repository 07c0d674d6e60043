#include "tests/integration/admin_run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

extern char** environ;

namespace papr::integration {

using Clock = std::chrono::steady_clock;

std::string AdminBinary() { return std::string(PAPR_BIN_DIR) + "/engine-admin"; }

AdminRun RunAdmin(const std::vector<std::string>& args, const EnvVars& extra_env) {
  AdminRun run;
  TempDir dir;
  std::string out_path = dir.File("out"), err_path = dir.File("err");
  std::vector<std::string> argv = {AdminBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> argv_ptrs;
  for (auto& a : argv)
    argv_ptrs.push_back(a.data());
  argv_ptrs.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "PAPR_", 5) != 0) env.emplace_back(*e);
  }
  for (const auto& [name, value] : extra_env) env.push_back(name + "=" + value);
  std::vector<char*> env_ptrs;
  for (auto& e : env)
    env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execve(argv_ptrs[0], argv_ptrs.data(), env_ptrs.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  if (pid < 0) {
    run.err = std::string("fork: ") + std::strerror(errno);
    return run;
  }
  auto deadline = Clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      run.out = ReadTextFile(out_path);
      run.err = "timed out\n" + ReadTextFile(err_path);
      return run;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = ReadTextFile(out_path);
  run.err = ReadTextFile(err_path);
  return run;
}

}  // namespace papr::integration
