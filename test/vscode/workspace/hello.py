# Run from the CodeLens in the end-to-end test: one line per rank, then done.
import os

print(f"hello from rank {os.environ['RANK']} of {os.environ['WORLD_SIZE']}", flush=True)
