# A job that outlives a window reload: numbered lines for about 40 s, then a last one, so a test
# can tell that no line was lost or shown twice across the reload.
import time

for step in range(40):
    print(f"steady step {step}", flush=True)
    time.sleep(1)
print("steady done", flush=True)
