// The installed client is usable from outside: `cmake --install` of this build tree into a
// temporary prefix, then examples/loan-approval configured and built by a separate cmake with
// only find_package(Tern) and CMAKE_PREFIX_PATH, then run against a tern-broker.
//
// The example is built with the same compiler, and with the sanitizer flags of this build when
// it is sanitized: the installed libtern_client.a is then instrumented, and although its
// exported link options bring the sanitizer runtimes in, compiling the example the same way
// keeps the whole program uniformly instrumented (no mixed container annotations).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h"

namespace tern::testing {
namespace {

namespace fs = std::filesystem;

std::string Describe(const ProcessResult& result) {
  return "exit " + std::to_string(result.exit_code) + "\nstdout:\n" + result.out + "\nstderr:\n" +
         result.err;
}

TEST(FindPackageTest, InstalledClientBuildsAndRunsTheLoanApprovalExample) {
  TempDir dir;
  const std::string prefix = dir.File("prefix");
  const std::string build = dir.File("build");

  auto install = RunProcess({TERN_CMAKE_COMMAND, "--install", TERN_BINARY_DIR, "--prefix", prefix});
  ASSERT_EQ(install.exit_code, 0) << Describe(install);
  for (const char* file :
       {"include/tern/client.h", "include/tern/job_worker.h", "lib/libtern_client.a",
        "lib/cmake/Tern/TernConfig.cmake", "lib/cmake/Tern/TernConfigVersion.cmake",
        "lib/cmake/Tern/TernTargets.cmake", "lib/pkgconfig/tern-client.pc", "bin/ternctl"}) {
    EXPECT_TRUE(fs::exists(prefix + "/" + file)) << file << " not installed";
  }
  // The generated gateway code and the client's internals stay private.
  EXPECT_FALSE(fs::exists(prefix + "/include/gateway.pb.h"));
  EXPECT_FALSE(fs::exists(prefix + "/include/tern/core.h"));

  // pkg-config resolves the installed file (and the system's grpc++, protobuf, ... files).
  if (fs::exists("/usr/bin/pkg-config")) {
    auto pc = RunProcess({"/usr/bin/pkg-config", "--cflags", "--libs", "tern-client"}, "",
                         {{"PKG_CONFIG_PATH", prefix + "/lib/pkgconfig"}});
    ASSERT_EQ(pc.exit_code, 0) << Describe(pc);
    EXPECT_NE(pc.out.find("-ltern_client"), std::string::npos) << pc.out;
    // The .pc file finds its prefix relative to itself (${pcfiledir}/../..).
    auto include = pc.out.find("-I");
    ASSERT_NE(include, std::string::npos) << pc.out;
    std::string include_dir = pc.out.substr(include + 2, pc.out.find(' ', include) - include - 2);
    EXPECT_TRUE(fs::equivalent(include_dir, prefix + "/include")) << include_dir;
  }

  std::vector<std::string> configure = {
      TERN_CMAKE_COMMAND,
      "-S",
      std::string(TERN_SOURCE_DIR) + "/examples/loan-approval",
      "-B",
      build,
      "-G",
      TERN_CMAKE_GENERATOR,
      "-DCMAKE_CXX_COMPILER=" + std::string(TERN_CXX_COMPILER),
      "-DCMAKE_PREFIX_PATH=" + prefix,
  };
  if (std::string(TERN_EXAMPLE_CXX_FLAGS).size() > 0) {
    configure.push_back("-DCMAKE_CXX_FLAGS=" + std::string(TERN_EXAMPLE_CXX_FLAGS));
  }
  auto configured = RunProcess(configure);
  ASSERT_EQ(configured.exit_code, 0) << Describe(configured);
  auto built = RunProcess({TERN_CMAKE_COMMAND, "--build", build});
  ASSERT_EQ(built.exit_code, 0) << Describe(built);

  BrokerProcess broker;
  broker.Start();
  auto run =
      RunProcess({build + "/loan-approval", "--address", broker.address(), "--instances", "40"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run) << "\nbroker log:\n" << broker.LogTail();
  EXPECT_NE(run.out.find("completed: 40"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("wrong decisions: 0"), std::string::npos) << run.out;
  // The installed ternctl works too.
  auto topology = RunProcess({prefix + "/bin/ternctl", "--address", broker.address(), "status"});
  EXPECT_EQ(topology.exit_code, 0) << Describe(topology);
}

}  // namespace
}  // namespace tern::testing
