#!/usr/bin/env python3
"""The include-direction check catches what it is there to catch: run on a copy of the tree with
one forbidden include added (and, separately, one README that disagrees with DEVELOPERS.md), it
fails and names the file; on the unchanged copy it passes."""
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHECK = ROOT / "tools" / "deps" / "check_deps.py"


def run_check(root):
    return subprocess.run([sys.executable, str(CHECK), "--root", str(root)],
                          capture_output=True, text=True)


class CheckDepsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp())
        shutil.copy(ROOT / "DEVELOPERS.md", self.tmp)
        shutil.copytree(ROOT / "src", self.tmp / "src")
        shutil.copytree(ROOT / "clients" / "cpp", self.tmp / "clients" / "cpp",
                        ignore=shutil.ignore_patterns("build*"))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_unchanged_tree_passes(self):
        result = run_check(self.tmp)
        self.assertEqual(result.returncode, 0, result.stdout)

    def test_raft_including_the_broker_fails(self):
        header = self.tmp / "src" / "raft" / "raft.h"
        header.write_text(header.read_text() + '\n#include "broker/partition_core.h"\n')
        result = run_check(self.tmp)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("src/raft/raft.h", result.stdout)
        self.assertIn('raft may not include "broker/partition_core.h"', result.stdout)

    def test_gateway_including_an_engine_proto_fails(self):
        source = self.tmp / "src" / "gateway" / "mapping.cc"
        source.write_text('#include "tern/state.pb.h"\n' + source.read_text())
        result = run_check(self.tmp)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("src/gateway/mapping.cc:1: gateway may not include", result.stdout)

    def test_client_including_tern_internals_fails(self):
        source = next((self.tmp / "clients" / "cpp").rglob("*.cc"))
        source.write_text('#include "engine/engine.h"\n' + source.read_text())
        self.assertEqual(run_check(self.tmp).returncode, 1)

    def test_readme_disagreeing_with_the_table_fails(self):
        readme = self.tmp / "src" / "feel" / "README.md"
        readme.write_text(readme.read_text().replace("Tern dependencies: `base`",
                                                     "Tern dependencies: `base`, `bpmn`"))
        result = run_check(self.tmp)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("src/feel/README.md", result.stdout)


if __name__ == "__main__":
    unittest.main()
