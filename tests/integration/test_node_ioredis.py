"""The Node.js ioredis app flow (node/app_flow.js) through the sidecar.

Skipped only when `node` is not installed. When node is there but node/node_modules is not, it
runs `npm ci` itself (package-lock.json is committed), and fails if that fails.
"""

import os
import shutil
import unittest

from harness import HERE, SidecarTestCase, run_cmd

NODE_DIR = os.path.join(HERE, "node")
NODE = shutil.which("node")


@unittest.skipIf(NODE is None, "node is not installed")
class NodeIoredisTest(SidecarTestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "ioredis")):
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError("node is installed but npm is not: cannot install ioredis")
            p = run_cmd([npm, "ci", "--no-audit", "--no-fund", "--prefix", NODE_DIR], timeout=300)
            if p.returncode != 0:
                raise RuntimeError("npm ci failed:\n%s\n%s" % (p.stdout.decode(), p.stderr.decode()))
        super().setUpClass()

    def test_app_flow(self):
        p = run_cmd([NODE, os.path.join(NODE_DIR, "app_flow.js"), str(self.env.port)], timeout=60)
        out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, "node app_flow.js exited %s:\n%s" % (p.returncode, out))
        self.assertIn("app_flow: all steps passed", out)
        # the flow's writes reached Redis itself
        r = self.redis_client()
        self.assertEqual(r.call("GET", "node:counter"), b"42")
        self.assertEqual(r.call("GET", "node:p:499"), b"499")


if __name__ == "__main__":
    unittest.main()
