// Starts a real papr-server for the node test suites (ui/tests, clients/npm): on 127.0.0.1:0
// with a fresh data dir, and in the PostgreSQL stage (PAPR_TEST_POSTGRES_URL, a superuser
// URL: tools/test_postgres.sh) on a new database of its own.
// Env: PAPR_BIN_DIR (default build/bin of the repo), PAPR_PG_BIN.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function serverBinary() {
  const configured = process.env.PAPR_BIN_DIR || 'build/bin';
  const candidates = path.isAbsolute(configured)
    ? [configured]
    : [path.resolve(process.cwd(), configured), path.resolve(repoRoot, configured)];
  for (const dir of candidates) {
    const bin = path.join(dir, 'papr-server');
    if (fs.existsSync(bin)) return bin;
  }
  throw new Error(`papr-server not found in ${candidates.join(' or ')} (set PAPR_BIN_DIR)`);
}

let databases = 0;

/** psql -tA on `url`; throws with psql's stderr when it fails. */
function psql(url, sql) {
  const bin = path.join(process.env.PAPR_PG_BIN || '/usr/lib/postgresql/15/bin', 'psql');
  const run = spawnSync(bin, ['-d', url, '-qtAc', sql], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`psql ${sql}: ${run.stderr || run.error}`);
  return run.stdout.trim();
}

/** The PostgreSQL stage: a new database for one server and the env that selects it; {} else. */
function postgresEnv() {
  const admin = process.env.PAPR_TEST_POSTGRES_URL;
  if (!admin) return {};
  const name = `papr_ui_${process.pid}_${databases++}`;
  psql(admin, `CREATE DATABASE ${name}`);
  const url = admin.slice(0, admin.lastIndexOf('/') + 1) + name;
  return { PAPR_STORAGE_BACKEND: 'postgres', PAPR_DATABASE_URL: url };
}

/** Starts papr-server with config/<config> (`edit`: a function rewriting its text) and API
 * key `key`, once it is ready (/readyz); resolves {url, stop, stderr}. */
export async function startServer(config, { edit, key } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papr-ui-data-'));
  let configPath = path.join(repoRoot, 'config', config);
  if (edit) {
    const text = edit(fs.readFileSync(configPath, 'utf8'));
    configPath = path.join(dataDir, '..', `${path.basename(dataDir)}-${config}`);
    fs.writeFileSync(configPath, text);
  }
  const backendEnv = postgresEnv();
  const proc = spawn(serverBinary(), [
    '--config', configPath,
    '--data-dir', dataDir,
    '--listen', '127.0.0.1:0',
  ], {
    env: { ...process.env, ...backendEnv, PAPR_API_KEY: key },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 15 s: ${stderr}`)), 15_000);
    const lines = readline.createInterface({ input: proc.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected first line: ${line}`));
      proc.stdout.resume();
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${stderr}`));
    });
  });
  // Writes are refused (503) until recovery is done: wait for /readyz.
  for (const deadline = Date.now() + 15_000; ;) {
    const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`server not ready in 15 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (backendEnv.PAPR_DATABASE_URL) {
    // The server really runs on its database: it created its tables there.
    assert.equal(psql(backendEnv.PAPR_DATABASE_URL, 'SELECT count(*) FROM schema_version'), '1');
  }
  async function stop() {
    if (proc.exitCode === null && proc.signalCode === null) {
      process.kill(proc.pid, 'SIGTERM');
      const killer = setTimeout(() => process.kill(proc.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (edit) fs.rmSync(configPath, { force: true });
  }
  return { url, stop, stderr: () => stderr };
}

