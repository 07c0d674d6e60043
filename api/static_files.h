#pragma once

#include <optional>
#include <string>

#include "net/http_types.h"

namespace papr::api {

//! Serves the web console's files from one directory, read-only: no listing, no path outside
//! the directory (no "..", no absolute paths, no symlinks leaving it), content types by
//! extension, index.html for directories. Thread-safe.
class StaticFiles {
 public:
  // `dir` empty: look for the console next to the executable (see server.ui_dir).
  explicit StaticFiles(std::string dir);

  // The answer for `path` below the mount point (e.g. "" or "app.js"); nullopt when absent.
  std::optional<net::HttpResponse> Serve(const std::string& path) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace papr::api
