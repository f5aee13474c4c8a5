import { describe, expect, it } from 'vitest';
import { localRendezvousLines, localRendezvousWarning } from './rendezvous-check.js';

// PyTorch's "Getting Started with Distributed Data Parallel" tutorial, as people copy it.
const TUTORIAL = `import os
import torch.distributed as dist

def setup(rank, world_size):
    os.environ['MASTER_ADDR'] = 'localhost'
    os.environ['MASTER_PORT'] = '12355'
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
`;

describe('localRendezvousLines', () => {
  it("finds the tutorial's MASTER_ADDR and a tcp:// init_method naming this machine", () => {
    expect(localRendezvousLines(TUTORIAL)).toEqual([{ line: 5, text: "os.environ['MASTER_ADDR'] = 'localhost'" }]);
    expect(localRendezvousLines('dist.init_process_group("gloo", init_method="tcp://127.0.0.1:23456", rank=r, world_size=w)')).toHaveLength(1);
    expect(localRendezvousLines('os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29500")')).toHaveLength(1);
    expect(localRendezvousLines('env = {"MASTER_ADDR": "localhost"}')).toHaveLength(1);
  });

  it('leaves what keeps the address Skiff gives: setdefault, reads, comments, other hosts', () => {
    const fine = [
      "os.environ.setdefault('MASTER_ADDR', 'localhost')",
      "addr = os.environ.get('MASTER_ADDR', 'localhost')",
      "# os.environ['MASTER_ADDR'] = 'localhost'",
      "os.environ['MASTER_ADDR'] = 'trainer-0.trainer'",
      'dist.init_process_group("gloo", init_method="env://")',
      "print('MASTER_ADDR is', os.environ['MASTER_ADDR'])",
    ].join('\n');
    expect(localRendezvousLines(fine)).toEqual([]);
  });
});

describe('localRendezvousWarning', () => {
  it('warns a multi-worker job only, naming the line and what to do', () => {
    expect(localRendezvousWarning('ddp.py', TUTORIAL, 1)).toBeUndefined();
    const warning = localRendezvousWarning('ddp.py', TUTORIAL, 2)!;
    expect(warning).toContain("ddp.py points its rendezvous at its own pod, line 5 (os.environ['MASTER_ADDR'] = 'localhost')");
    expect(warning).toContain('with 2 workers each pod would run on its own');
    expect(warning).toContain('--workers 1');
    expect(localRendezvousWarning('train.py', 'import torch\n', 4)).toBeUndefined();
  });
});
