// The one doctest main every test executable links. CTest runs each test case as
// `EXE --test-case=NAME`; a run in which that filter matches no test case fails instead of passing
// with nothing run. (A ';' in a TEST_CASE name was cut there by doctest's discovery script: about 30
// test cases passed under CTest without running until this check found them.)
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

namespace {

unsigned matchedTestCases = 0;

/// Remembers how many test cases passed the filters; reports nothing itself.
struct MatchCounter final : doctest::IReporter {
  explicit MatchCounter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override { matchedTestCases = stats.numTestCasesPassingFilters; }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

REGISTER_LISTENER("match-counter", 1, MatchCounter);

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit()) return result;  // --help, --list-test-cases, ...
  bool filtered = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--test-case=", 12) == 0 || std::strncmp(argv[i], "-tc=", 4) == 0) filtered = true;
  }
  if (result == 0 && filtered && matchedTestCases == 0) {
    std::fprintf(stderr, "no test case matched the --test-case filter: nothing ran (is the name cut short?)\n");
    return 1;
  }
  return result;
}
