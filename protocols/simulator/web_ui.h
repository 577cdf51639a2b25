// WebUi: the simulator's live web UI (the files of web/, compiled into uvmodbus-simulator by
// cmake/embed_web_assets.cmake), served from memory with content types and caching headers.
// Routes (SimulatorHttp adds them when SimulatorHttpOptions::ui is set):
//   GET /         the UI's index.html (the live register table, its links to pymodbus's four views)
//   GET /ui/<f>   the UI's other files: its scripts and style, and the chart library's dist files
//   GET /favicon.ico  the UI's favicon.svg
// Rules:
// - Every answer carries the asset's ETag (a hash of its bytes, computed at build time) and
//   "Cache-Control: no-cache": the browser keeps the file but asks each time, and a matching
//   If-None-Match gets 304 with no body. A new binary with new files is never hidden by a cache.
// - Paths are checked as static files are (http::safeRelativePath): nothing outside the list is
//   served; an unknown or malformed path answers 404.
// - The content type comes from the file's extension (http::contentTypeFor); nosniff is set so a
//   browser never runs a file as something else.
// Tests: tests/protocols/simulator/web_ui_test.cc, tests/browser/ (the UI in headless chromium)
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "protocols/http/http_message.h"
#include "protocols/http/http_server.h"

namespace modbus {

/// One embedded file: its path under /ui/ ("app.js", "uplot/uPlot.iife.min.js"), its bytes and its
/// ETag (quoted, as sent). The bytes are static data that outlive every WebUi.
struct WebAsset {
  std::string_view path;
  std::string_view bytes;
  std::string_view etag;
};

class WebUi {
 public:
  /// `assets` must hold "index.html"; the views of them must outlive this object.
  explicit WebUi(std::span<const WebAsset> assets);

  /// The asset at `path` ("index.html", percent-encoded as requested), honouring If-None-Match.
  http::Response serve(std::string_view encodedPath, const http::Request& request) const;
  /// GET /: the index page.
  http::Handler indexHandler() const;
  /// GET /ui/*: the file named by the route's tail.
  http::Handler fileHandler() const;
  /// GET /favicon.ico: favicon.svg when the assets hold one, else 404 (every page, the pymodbus
  /// views included, asks for it; an answer keeps the browser's console free of 404s).
  http::Handler iconHandler() const;

 private:
  std::map<std::string, WebAsset, std::less<>> assets_;
};

/// True when the If-None-Match header `value` names `etag` ("*", or a list holding it, weak or not).
bool etagMatches(std::string_view value, std::string_view etag);

}  // namespace modbus
