# Long enough to be cancelled from the Skiff view.
import time

for step in range(600):
    print(f"still working: {step}", flush=True)
    time.sleep(1)
