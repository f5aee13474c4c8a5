// What a failed script's last lines mean when they are the machine's doing, not the script's bug:
// CUDA asked of a job without GPUs (a CPU build of torch, or no device), NCCL on CPU, a GPU out of
// memory, a full disk. Each turns a traceback a user would have to search for into what to do.
// Pure: the caller gives the lines and the GPUs per worker.

export interface TailContext {
  /** GPUs each worker was given (0 on a CPU job). */
  gpus: number;
}

interface Diagnosis {
  /** Lines that say it (any one of them is enough). */
  seen: RegExp;
  when: (ctx: TailContext) => boolean;
  say: (ctx: TailContext) => string;
}

/** A CPU build of torch asked for CUDA: what the job image's torch says when `.cuda()` or `set_device` runs. */
const CPU_TORCH_CUDA = /Torch not compiled with CUDA enabled|has no attribute '_cuda_(setDevice|getDeviceCount|init)'/;
/** A CUDA build of torch with no device to use. */
const NO_CUDA_DEVICE = /No CUDA GPUs are available|Found no NVIDIA driver on your system|CUDA driver initialization failed|no CUDA-capable device is detected/;
const NCCL_WITHOUT_GPUS = /Distributed package doesn't have NCCL built in|ProcessGroupNCCL is only supported with GPUs|NCCL.*no GPUs found/;
const CUDA_OOM = /CUDA out of memory|CUDA error: out of memory|torch\.(cuda\.)?OutOfMemoryError/;

const ON_CPU = "make it run on CPU: the gloo backend and CPU tensors (`device = 'cuda' if torch.cuda.is_available() else 'cpu'`)";
const GIVE_GPUS = 'give it GPUs with `--gpus-per-worker 1` on a gpu cluster (`skiff up --profile gpu`)';
const perWorker = (gpus: number) => `${gpus} GPU${gpus === 1 ? '' : 's'} per worker`;

// Order matters: NCCL's words come before a generic CUDA check, since a CPU torch says both.
const DIAGNOSES: Diagnosis[] = [
  {
    seen: NCCL_WITHOUT_GPUS,
    when: ({ gpus }) => gpus === 0,
    say: () =>
      "the script asks for the NCCL backend, which needs GPUs, and the job has none: use `backend='gloo'` on CPU (`'nccl' if torch.cuda.is_available() else 'gloo'`), or " +
      GIVE_GPUS,
  },
  {
    seen: new RegExp(`${CPU_TORCH_CUDA.source}|${NO_CUDA_DEVICE.source}`),
    when: ({ gpus }) => gpus === 0,
    say: () => `the script uses CUDA but the job has no GPU: ${GIVE_GPUS}, or ${ON_CPU}`,
  },
  {
    seen: new RegExp(`${CPU_TORCH_CUDA.source}|${NCCL_WITHOUT_GPUS.source}`),
    when: ({ gpus }) => gpus > 0,
    say: ({ gpus }) =>
      `the job has ${perWorker(gpus)} but its torch is a CPU build (as in Skiff's default image): run it with an image whose torch is built for CUDA (\`--image\`)`,
  },
  {
    seen: NO_CUDA_DEVICE,
    when: ({ gpus }) => gpus > 0,
    say: ({ gpus }) =>
      `the job has ${perWorker(gpus)} but CUDA finds no device: a fake-gpu cluster's GPUs are scheduled, not real; run CUDA code on a gpu cluster (\`skiff up --profile gpu\` on a machine with NVIDIA's driver)`,
  },
  {
    seen: CUDA_OOM,
    when: ({ gpus }) => gpus > 0,
    say: () => 'the GPU ran out of memory (CUDA out of memory): lower the batch size or the model, or spread it over more GPUs (`--workers`)',
  },
  {
    seen: /No space left on device|Errno 28\b/,
    when: () => true,
    // A full disk reads as an OSError deep in the script; say what filled and what to do first.
    say: () => 'the disk holding its working directory is full (free space on this machine, e.g. `skiff outputs JOB --remove` of old runs)',
  },
];

/** What the last lines mean and what to do, or undefined when they show nothing of the kind. */
export function diagnoseTail(lines: string[], ctx: TailContext): string | undefined {
  return DIAGNOSES.find((d) => d.when(ctx) && lines.some((line) => d.seen.test(line)))?.say(ctx);
}
