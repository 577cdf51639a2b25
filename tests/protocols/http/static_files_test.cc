// Static files and embedded assets: served with their content type; every way out of the folder
// ("..", "%2e%2e", "%2f", backslashes, absolute paths, symbolic links) answers 404.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "protocols/http/router.h"
#include "protocols/http/static_files.h"
#include "tests/protocols/http/http_test_support.h"

using namespace http;
namespace fs = std::filesystem;

namespace {

// A scratch tree: <tmp>/secret.txt outside, <tmp>/www/{index.html, css/site.css, out -> ../secret.txt}.
struct Tree {
  Tree() {
    base = fs::temp_directory_path() / ("uvmodbus-http-static-" + std::to_string(::getpid()));
    fs::remove_all(base);
    fs::create_directories(base / "www" / "css");
    write(base / "secret.txt", "secret");
    write(base / "www" / "index.html", "<h1>hi</h1>");
    write(base / "www" / "css" / "site.css", "body{}");
    fs::create_symlink(base / "secret.txt", base / "www" / "out");
    fs::create_directory_symlink(base, base / "www" / "up");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  fs::path base;
};

}  // namespace

TEST_CASE("safeRelativePath keeps paths inside the folder") {
  CHECK(safeRelativePath("/").value_or("?") == "index.html");
  CHECK(safeRelativePath("/css/site.css").value_or("?") == "css/site.css");
  CHECK(safeRelativePath("/docs/").value_or("?") == "docs/index.html");
  CHECK(safeRelativePath("/a%20b.txt").value_or("?") == "a b.txt");
  CHECK(safeRelativePath("css/site.css").value_or("?") == "css/site.css");  // a route's "*" tail
  for (const char* bad : {"/..", "/../secret.txt", "/css/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
                          "/css/%2e%2e/%2e%2e/secret.txt", "/.%2e/x", "/./index.html", "//etc/passwd",
                          "/%2fetc/passwd", "/a%2f..%2fb", "/..%5csecret.txt", "/a\\..\\b", "/a//b", "/%00",
                          "/x%zz", "/C:/windows"}) {
    CAPTURE(bad);
    CHECK_FALSE(safeRelativePath(bad).has_value());
  }
}

TEST_CASE("StaticFiles serves files with their content type and index.html for /") {
  Tree tree;
  StaticFiles files(tree.base / "www");
  Response index = files.serve("/");
  CHECK(index.status == 200);
  CHECK(index.body == "<h1>hi</h1>");
  CHECK(index.headers.get("Content-Type").value_or("") == "text/html; charset=utf-8");
  Response css = files.serve("/css/site.css");
  CHECK(css.body == "body{}");
  CHECK(css.headers.get("Content-Type").value_or("") == "text/css; charset=utf-8");
}

TEST_CASE("StaticFiles answers 404 for traversal, symbolic links out, directories and missing files") {
  Tree tree;
  StaticFiles files(tree.base / "www");
  for (const char* path : {"/../secret.txt", "/%2e%2e/secret.txt", "/css/%2E%2E/%2e%2e/secret.txt", "/out",
                           "/up/secret.txt", "/css", "/nothing.html", "//" /* absolute */,
                           "/%2f" /* encoded absolute */}) {
    CAPTURE(path);
    CHECK(files.serve(path).status == 404);
  }
  // An absolute path to the secret, spelled as a request path.
  std::string absolute = "/" + (tree.base / "secret.txt").string();
  CHECK(files.serve(absolute).status == 404);
}

TEST_CASE("traversal on the wire answers 404 and the connection carries on") {
  Tree tree;
  auto router = std::make_shared<Router>();
  router->get("/static/*", StaticFiles(tree.base / "www").handler());
  http::testing::Connection c(Router::asHandler(router));
  c.send("GET /static/../secret.txt HTTP/1.1\r\n\r\nGET /static/%2e%2e/secret.txt HTTP/1.1\r\n\r\n"
         "GET /static/css/site.css HTTP/1.1\r\n\r\n");
  CHECK(http::testing::occurrences(c.out(), "HTTP/1.1 404 Not Found\r\n") == 2);
  CHECK(c.out().find("secret") == std::string::npos);
  CHECK(c.out().find("\r\n\r\nbody{}") != std::string::npos);
  CHECK_FALSE(c.closing());
}

TEST_CASE("EmbeddedAssets serves what was added, by path, and nothing else") {
  static const char kPage[] = "<p>embedded</p>";
  EmbeddedAssets assets;
  assets.add("index.html", kPage);
  assets.add("app.js", "console.log(1)");
  CHECK(assets.serve("/").body == kPage);
  Response js = assets.serve("/app.js");
  CHECK(js.headers.get("Content-Type").value_or("") == "text/javascript; charset=utf-8");
  CHECK(js.body == "console.log(1)");
  CHECK(assets.serve("/missing.css").status == 404);
  CHECK(assets.serve("/x/../app.js").status == 404);
  CHECK(assets.serve("/%2e%2e/app.js").status == 404);
}
