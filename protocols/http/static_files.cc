// Static files and embedded assets, with the traversal rules of static_files.h.
#include "protocols/http/static_files.h"

#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "protocols/http/router.h"

namespace http {

std::optional<std::string> safeRelativePath(std::string_view encodedPath) {
  // A request path starts with one '/' (a route's "*" tail has none); a second would make it absolute.
  if (!encodedPath.empty() && encodedPath.front() == '/') encodedPath.remove_prefix(1);
  if (!encodedPath.empty() && encodedPath.front() == '/') return std::nullopt;
  std::string out;
  auto segments = splitPath(encodedPath);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    auto decoded = percentDecode(segments[i]);
    if (!decoded) return std::nullopt;
    const bool last = i + 1 == segments.size();
    if (decoded->empty()) {
      if (last) {
        out += out.empty() ? "index.html" : "/index.html";  // "/" or "dir/"
        break;
      }
      return std::nullopt;  // "a//b" or a leading "//" (absolute)
    }
    if (*decoded == "." || *decoded == "..") return std::nullopt;
    if (decoded->find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) return std::nullopt;
    if (decoded->size() >= 2 && (*decoded)[1] == ':') return std::nullopt;  // "C:" drive letters
    if (!out.empty()) out += '/';
    out += *decoded;
  }
  return out;
}

std::string_view contentTypeFor(std::string_view path) {
  std::size_t dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "ico") return "image/x-icon";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "woff2") return "font/woff2";
  return "application/octet-stream";
}

namespace {

// On a "/prefix/*" route the file is the tail; otherwise the whole path.
std::string_view requestedPath(const Request& request) {
  auto it = request.params.find("*");
  return it != request.params.end() ? std::string_view(it->second) : std::string_view(request.path);
}

}  // namespace

StaticFiles::StaticFiles(std::filesystem::path root, std::size_t maxFileBytes) : maxFileBytes_(maxFileBytes) {
  std::error_code ec;
  root_ = std::filesystem::canonical(root, ec);
  if (ec) root_ = std::move(root);
}

Response StaticFiles::serve(std::string_view encodedPath) const {
  auto rel = safeRelativePath(encodedPath);
  if (!rel) return Response::error(404);
  std::error_code ec;
  std::filesystem::path file = std::filesystem::canonical(root_ / *rel, ec);
  if (ec) return Response::error(404);
  // A symbolic link inside the folder must not lead out of it.
  auto [rootEnd, fileIt] = std::mismatch(root_.begin(), root_.end(), file.begin(), file.end());
  if (rootEnd != root_.end()) return Response::error(404);
  if (!std::filesystem::is_regular_file(file, ec) || ec) return Response::error(404);
  auto size = std::filesystem::file_size(file, ec);
  if (ec || size > maxFileBytes_) return Response::error(404);
  std::ifstream in(file, std::ios::binary);
  if (!in) return Response::error(404);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return Response::text(200, std::move(body), std::string(contentTypeFor(rel->c_str())));
}

Handler StaticFiles::handler() const {
  return [self = *this](Request& request) { return self.serve(requestedPath(request)); };
}

void EmbeddedAssets::add(std::string path, std::string_view bytes, std::string contentType) {
  if (contentType.empty()) contentType = std::string(contentTypeFor(path));
  assets_[std::move(path)] = Asset{bytes, std::move(contentType)};
}

Response EmbeddedAssets::serve(std::string_view encodedPath) const {
  auto rel = safeRelativePath(encodedPath);
  if (!rel) return Response::error(404);
  auto it = assets_.find(*rel);
  if (it == assets_.end()) return Response::error(404);
  return Response::text(200, std::string(it->second.bytes), it->second.contentType);
}

Handler EmbeddedAssets::handler() const {
  return [self = *this](Request& request) { return self.serve(requestedPath(request)); };
}

}  // namespace http
