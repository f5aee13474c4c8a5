import { describe, expect, it } from 'vitest';
import { diagnoseTail } from './script-errors.js';

// The last lines as Skiff's job image (a CPU build of torch) and a CUDA build print them.
const SET_DEVICE = ['    torch._C._cuda_setDevice(device)', "AttributeError: module 'torch._C' has no attribute '_cuda_setDevice'"];
const DOT_CUDA = ['    raise AssertionError("Torch not compiled with CUDA enabled")', 'AssertionError: Torch not compiled with CUDA enabled'];
const NCCL_CPU_BUILD = ['    raise RuntimeError("Distributed package doesn\'t have NCCL " "built in")', "RuntimeError: Distributed package doesn't have NCCL built in"];
const NCCL_NO_GPU = ['torch.distributed.DistBackendError: ProcessGroupNCCL is only supported with GPUs, no GPUs found!'];
const NO_DEVICE = ['RuntimeError: No CUDA GPUs are available'];
const OOM = ['torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 15.77 GiB total capacity)'];

describe('diagnoseTail', () => {
  it('says a CPU job whose script uses CUDA needs a GPU or CPU code, whichever call it made', () => {
    for (const lines of [SET_DEVICE, DOT_CUDA, NO_DEVICE]) {
      expect(diagnoseTail(lines, { gpus: 0 })).toMatch(
        /^the script uses CUDA but the job has no GPU: give it GPUs with `--gpus-per-worker 1` .*, or make it run on CPU: the gloo backend/,
      );
    }
  });

  it('says NCCL needs GPUs and gloo is the CPU backend', () => {
    for (const lines of [NCCL_CPU_BUILD, NCCL_NO_GPU])
      expect(diagnoseTail(lines, { gpus: 0 })).toMatch(/^the script asks for the NCCL backend, which needs GPUs, and the job has none: use `backend='gloo'`/);
  });

  it('on a job with GPUs, tells a CPU build of torch from GPUs that CUDA cannot see', () => {
    expect(diagnoseTail(SET_DEVICE, { gpus: 1 })).toMatch(/^the job has 1 GPU per worker but its torch is a CPU build .*`--image`/);
    expect(diagnoseTail(NCCL_CPU_BUILD, { gpus: 2 })).toMatch(/^the job has 2 GPUs per worker but its torch is a CPU build/);
    expect(diagnoseTail(NO_DEVICE, { gpus: 1 })).toMatch(/^the job has 1 GPU per worker but CUDA finds no device: a fake-gpu cluster's GPUs are scheduled, not real/);
  });

  it('says a GPU ran out of memory, and what to do', () => {
    expect(diagnoseTail(OOM, { gpus: 1 })).toMatch(/^the GPU ran out of memory \(CUDA out of memory\): lower the batch size/);
  });

  it('says nothing of lines that are the script’s own bug', () => {
    expect(diagnoseTail(['ValueError: bad shard', 'print("cuda is optional here")'], { gpus: 0 })).toBeUndefined();
    expect(diagnoseTail([], { gpus: 1 })).toBeUndefined();
  });
});
