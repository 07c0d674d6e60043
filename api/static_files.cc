#include "api/static_files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace papr::api {
namespace {

namespace fs = std::filesystem;

std::string FindUiDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const char* rel : {"../share/papr/ui", "../../ui", "../ui"}) {
    fs::path candidate = exe.parent_path() / rel;
    if (fs::exists(candidate / "index.html", ec)) return fs::weakly_canonical(candidate, ec).string();
  }
  return "";
}

const char* ContentType(const fs::path& p) {
  std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace

StaticFiles::StaticFiles(std::string dir) : dir_(dir.empty() ? FindUiDir() : std::move(dir)) {}

std::optional<net::HttpResponse> StaticFiles::Serve(const std::string& path) const {
  if (dir_.empty() || path.find("..") != std::string::npos || path.find('\0') != std::string::npos ||
      (!path.empty() && path[0] == '/')) {
    return std::nullopt;
  }
  std::error_code ec;
  fs::path root = fs::weakly_canonical(dir_, ec);
  fs::path file = fs::weakly_canonical(root / path, ec);
  if (ec) return std::nullopt;
  if (fs::is_directory(file, ec)) file /= "index.html";
  // Resolved path (symlinks followed) must stay inside the console directory.
  auto rel = file.lexically_relative(root);
  if (rel.empty() || rel.native().rfind("..", 0) == 0 || !fs::is_regular_file(file, ec)) {
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  net::HttpResponse r;
  r.status = 200;
  r.content_type = ContentType(file);
  r.body = body.str();
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace papr::api
