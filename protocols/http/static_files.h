// Files for GET: a folder on disk (StaticFiles) or assets compiled into the binary (EmbeddedAssets).
// Rules: a request path never leaves its folder. The path is percent-decoded segment by segment and
// refused with 404 when a segment is "..", "." or empty (inside), holds '/', '\\' or NUL once
// decoded (so "%2e%2e", "%2F" and "..%5C" are caught), or the path is absolute; on disk, the file's
// real path (symbolic links resolved) must still be inside the folder's. Only regular files of at
// most maxFileBytes are served; "/" and a trailing "/" mean "index.html".
// Tests: tests/protocols/http/static_files_test.cc
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/http/http_message.h"
#include "protocols/http/http_server.h"

namespace http {

/// The decoded relative path ("css/site.css") for an encoded request path ("/css/site.css"), or
/// nullopt when it would leave the folder or is malformed (see the rules above).
std::optional<std::string> safeRelativePath(std::string_view encodedPath);

/// "text/html; charset=utf-8" for ".html", ... "application/octet-stream" when unknown.
std::string_view contentTypeFor(std::string_view path);

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root, std::size_t maxFileBytes = 16 * 1024 * 1024);
  /// Serves `encodedPath` (relative to the root; a leading '/' is allowed): 200 with the file, or 404.
  Response serve(std::string_view encodedPath) const;
  /// A Handler serving the request's path, or, on a "/prefix/*" route, params["*"].
  Handler handler() const;

 private:
  std::filesystem::path root_;
  std::size_t maxFileBytes_;
};

class EmbeddedAssets {
 public:
  /// `path` without the leading '/' ("index.html"); `bytes` must outlive this object (static data).
  void add(std::string path, std::string_view bytes, std::string contentType = {});
  Response serve(std::string_view encodedPath) const;
  Handler handler() const;

 private:
  struct Asset {
    std::string_view bytes;
    std::string contentType;
  };
  std::map<std::string, Asset, std::less<>> assets_;
};

}  // namespace http
