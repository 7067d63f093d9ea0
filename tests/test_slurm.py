"""tools/slurm_train.sh on a real one-node Slurm cluster (Debian's
slurm-wlm and munge, which CI installs with tools/setup_slurm.sh as root
before `make test`), started here for the test: two tasks train through
srun with the Slurm launcher (gloo) and save their checkpoint. Without Slurm
the test skips; with Slurm installed but not starting it skips, except in
CI (``CI=true``), where that fails it."""
import glob
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from helpers import ROOT, det_small_cfg

from mmedgenext.synthetic_data import write_detection_set

DAEMONS = ('munged', 'slurmctld', 'slurmd', 'srun', 'sinfo', 'scontrol')
SBIN = os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin', '/sbin'])


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def slurm_conf(d, host):
    return f"""\
ClusterName=mmedgenext-test
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge.sock
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def cannot_start(reason):
    """An installed Slurm that does not come up: a failure in CI
    (``CI=true``, which .ci/run sets), where it was installed to run, a
    skip elsewhere."""
    if os.environ.get('CI') == 'true':
        pytest.fail(reason)
    pytest.skip(reason)


def _tail(path, lines=5):
    if not os.path.isfile(path):
        return f'({os.path.basename(path)}: none)'
    return ' | '.join(open(path).read().splitlines()[-lines:])


@pytest.fixture(scope='module')
def slurm(tmp_path_factory):
    """A one-node cluster on this machine (munged with its own key and
    socket, slurmctld and slurmd as root, no cgroups), torn down after;
    yields the environment its clients need. Skips, saying why, where
    Slurm is not installed; :func:`cannot_start` where it does not come
    up."""
    missing = [d for d in DAEMONS if shutil.which(d, path=SBIN) is None]
    if missing:
        pytest.skip(f'Slurm is not installed: {", ".join(missing)} not '
                    'found (tools/setup_slurm.sh installs slurm-wlm and '
                    'munge where apt-get runs as root)')
    if os.geteuid() != 0:
        cannot_start('starting slurmctld and slurmd needs root')
    d = str(tmp_path_factory.mktemp('slurm'))
    for sub in ('state', 'spool'):
        os.makedirs(os.path.join(d, sub))
    with open(os.path.join(d, 'munge.key'), 'wb') as f:
        f.write(os.urandom(1024))
    os.chmod(os.path.join(d, 'munge.key'), 0o600)
    host = socket.gethostname().split('.')[0]
    conf = os.path.join(d, 'slurm.conf')
    with open(conf, 'w') as f:
        f.write(slurm_conf(d, host))
    env = dict(os.environ, SLURM_CONF=conf, PATH=SBIN)
    daemons = [subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(d, f'{command[0]}.err'), 'w'))
        for command in (
            ['munged', '--foreground', '--force',
             f'--key-file={d}/munge.key', f'--socket={d}/munge.sock',
             f'--pid-file={d}/munged.pid', f'--log-file={d}/munged.log',
             f'--seed-file={d}/munged.seed'],
            ['slurmctld', '-D', '-f', conf],
            ['slurmd', '-D', '-N', host, '-f', conf])]
    try:
        state = ''
        for _ in range(60):
            if any(p.poll() is not None for p in daemons):
                break
            state = subprocess.run(
                ['sinfo', '-h', '-o', '%T'], env=env, capture_output=True,
                text=True).stdout.strip()
            if state == 'idle':
                break
            time.sleep(0.5)
        if state != 'idle':
            why = '; '.join(
                f'{name}: {_tail(os.path.join(d, name))}' for name in (
                    'munged.log', 'munged.err', 'slurmctld.log',
                    'slurmctld.err', 'slurmd.log', 'slurmd.err'))
            cannot_start(f'Slurm did not start here (node state '
                         f'{state or "unknown"}): {why}')
        yield env
    finally:
        for p in reversed(daemons):
            p.terminate()
        for p in daemons:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.mark.slow
def test_slurm_train_runs_two_tasks_through_srun(slurm, tmp_path):
    det_root = str(tmp_path / 'det')
    write_detection_set(det_root, num_train=8, num_val=2)
    cfg = det_small_cfg(det_root, tmp_path / 'work', 2, batch_size=2)
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None  # training
    cfg_file = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_file)
    env = dict(slurm, PYTHON=sys.executable, GPUS='2', GPUS_PER_NODE='2',
               GRES='', CPUS_PER_TASK='1', MASTER_PORT=str(free_port()),
               OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'test', 'mmedgenext-slurm-test',
         cfg_file, str(tmp_path / 'work')], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert os.path.isfile(tmp_path / 'work' / 'iter_2.pth')
    log = open(glob.glob(str(tmp_path / 'work' / '*' / '*.log'))[0]).read()
    assert 'Distributed launcher: slurm' in log
    assert 'GPU number: 2' in log  # the world size: two Slurm tasks
    for _ in range(60):  # srun returns before the job record completes
        job = subprocess.run(
            ['scontrol', '--oneliner', 'show', 'job'], env=slurm,
            capture_output=True, text=True, check=True).stdout
        if 'JobState=COMPLETING' not in job:
            break
        time.sleep(0.5)
    assert 'JobName=mmedgenext-slurm-test' in job
    assert 'JobState=COMPLETED' in job and 'NumTasks=2' in job


@pytest.mark.parametrize('ci,outcome', [('true', pytest.fail.Exception),
                                        ('', pytest.skip.Exception)])
def test_a_slurm_not_starting_fails_only_in_ci(monkeypatch, ci, outcome):
    monkeypatch.setenv('CI', ci)
    with pytest.raises(outcome, match='^slurmd is down$'):
        cannot_start('slurmd is down')
