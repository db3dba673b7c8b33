// A real PostgreSQL server for the system tests, like tests/exporter/postgres_server.h: Debian's
// postgresql-15 (initdb, pg_ctl) on a temporary directory, 127.0.0.1 only, a free port, the unix
// socket in the same directory, user `tern` with a password (scram-sha-256 over TCP). initdb and
// postgres refuse root, so as root they run as `nobody` (runuser) in a directory it owns.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort } from '../../compat/lib/broker.mjs';

const bin = process.env.TERN_PG_BIN || '/usr/lib/postgresql/15/bin';
const password = 'tern-system-test';

export class Postgres {
  constructor() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'tern-pg-'));
    this.running = false;
  }

  // Runs one of the server's programs as the user that owns the directory.
  run(program, args) {
    const command = path.join(bin, program);
    const asRoot = process.getuid() === 0;
    return execFileSync(asRoot ? 'runuser' : command, asRoot ? ['-u', 'nobody', '--', command, ...args] : args,
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async start() {
    if (!existsSync(path.join(bin, 'initdb'))) {
      throw new Error(`no PostgreSQL server in ${bin} (scripts/install-deps.sh --test installs postgresql-15)`);
    }
    writeFileSync(path.join(this.dir, 'password'), password + '\n');
    if (process.getuid() === 0) {
      chownSync(this.dir, 65534, 65534);
      chownSync(path.join(this.dir, 'password'), 65534, 65534);
    }
    chmodSync(this.dir, 0o700);
    this.run('initdb', ['-D', path.join(this.dir, 'data'), '-U', 'tern', `--pwfile=${path.join(this.dir, 'password')}`,
      '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions']);
    this.port = await freePort();
    this.startAgain();
    this.psql('postgres', 'CREATE DATABASE tern');
  }

  // pg_ctl start on the same directory and port (after stop()).
  startAgain() {
    // fsync off: the machine's crash is not what these tests are about, and its cores are shared.
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-l', path.join(this.dir, 'server.log'), '-w', '-t', '60',
      '-o', `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c fsync=off -c full_page_writes=off -c shared_buffers=16MB`,
      'start']);
    this.running = true;
  }

  // pg_ctl stop -m fast: sessions are ended, the brokers' connections break.
  stop() {
    if (!this.running) return;
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-w', '-t', '60', 'stop', '-m', 'fast']);
    this.running = false;
  }

  get url() {
    return `postgresql://tern:${password}@127.0.0.1:${this.port}/tern`;
  }

  // Rows as the sqlite3 shell prints them: one a line, columns separated by '|'.
  psql(database, query) {
    return execFileSync('psql', ['-X', '-q', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-c', query,
      `postgresql://tern:${password}@127.0.0.1:${this.port}/${database}`], { encoding: 'utf8' }).trim();
  }

  query(sql) {
    return this.psql('tern', sql);
  }

  cleanup() {
    try {
      this.stop();
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
