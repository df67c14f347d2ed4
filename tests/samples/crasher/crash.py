#!/usr/bin/env python3
"""Sample app that crashes: exits with status 3 half a second after it starts."""

import sys
import time

print("crasher: starting, exiting in 0.5 s", flush=True)
time.sleep(0.5)
print("crasher: exiting with status 3", file=sys.stderr, flush=True)
sys.exit(3)
