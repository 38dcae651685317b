// Backups of a store on PostgreSQL (docs/scale-out.md, docs/decisions/045-postgres-backups.md):
// the server settings and the command lines of both methods, written once, so that the drill
// (tests/integration/pg-backup.test.ts) runs exactly what the docs tell an owner to run.
//
// - pg_dump for a small shop: one file holding one consistent snapshot of the database,
//   restored with pg_restore into an empty database.
// - A base backup (pg_basebackup) plus every WAL segment archived by `archive_command`: the
//   database as it was at any moment since the base backup (a time, an LSN, a named restore
//   point), restored by PostgreSQL replaying the archive through `restore_command`.

/** Server settings, as `name = value` in postgresql.conf or as Patroni's `postgresql.parameters`. */
export type Settings = Record<string, string>

/** Where archive recovery stops; `'end'` replays every segment the archive holds. */
export type RecoveryTarget = { name: string } | { lsn: string } | { time: string } | 'end'

/** The file whose presence makes a server starting on a restored data folder recover from the archive. */
export const RECOVERY_SIGNAL = 'recovery.signal'

/**
 * A segment not yet full is archived after this long anyway: the most a shop on one server
 * loses with its disk, and a forced segment is still a whole 16 MB file (mostly zeros) in the
 * archive, so a quieter shop pays little for a shorter bound.
 */
const ARCHIVE_TIMEOUT = '5min'

/** Single-quoted for /bin/sh, with `%` doubled because PostgreSQL reads `%` in these commands itself. */
function shellFolder(folder: string): string {
  if (!folder.startsWith('/')) throw new Error(`pg backup: the archive folder must be an absolute path (the command runs in the data folder), not ${folder}`)
  return `'${folder.replaceAll("'", `'\\''`).replaceAll('%', '%%')}'`
}

/**
 * The `archive_command` that copies each finished WAL segment (`%p`, relative to the data
 * folder) into `folder` as `%f`, as PostgreSQL 15's docs ask of one:
 * - it never overwrites: a file of that name with other contents (a second server archiving
 *   into the same folder by mistake) fails the command, so the server keeps the segment and
 *   retries, and the owner sees it in the log and in pg_stat_archiver;
 * - a file of that name with the same contents is success, after being synced again: the
 *   server archives a segment again when it crashed before recording that it had, and with
 *   `archive_mode = always` every member of a cluster archives the same segments;
 * - success only once the copy is on disk: copied under a name of its own (the shell's pid,
 *   so two members copying at once never write into one file) and fsynced, then linked to its
 *   name, which `ln` refuses if the name exists (the loser of a race compares instead), and
 *   the folder fsynced so the name survives a power cut.
 */
export function archiveCommand(folder: string): string {
  return [
    `dir=${shellFolder(folder)}; f="$dir/%f"; part="$dir/%f.$$.part"`,
    `if [ -e "$f" ]; then cmp -s %p "$f" && sync "$f"`,
    `else cp %p "$part" && sync "$part" && ln "$part" "$f"; linked=$?; rm -f "$part"; [ $linked -eq 0 ] || cmp -s %p "$f" || exit 1; sync "$dir"`,
    'fi',
  ].join('; ')
}

/** The `restore_command` that hands recovery segment `%f` from `folder`; it fails (as it must) for one the archive lacks. */
export function restoreCommand(folder: string): string {
  return `cp ${shellFolder(folder)}/%f %p`
}

/**
 * WAL archiving into `folder`: in postgresql.conf on one server, or in Patroni's
 * `postgresql.parameters` so every member carries them (only the primary archives, unless
 * `archive_mode` is `always`). `archive_mode` takes effect at a restart.
 */
export function archiveSettings(folder: string): Settings {
  return { wal_level: 'replica', archive_mode: 'on', archive_command: archiveCommand(folder), archive_timeout: ARCHIVE_TIMEOUT }
}

/**
 * What a server started on a restored base backup (with `recovery.signal` in its data folder)
 * needs to replay the archive up to `target` and then take writes on a new timeline.
 * A named restore point or a time stops after the last transaction committed before it; an
 * LSN stops before the first record at or past it, so what was committed before it is in.
 */
export function recoverySettings(folder: string, target: RecoveryTarget): Settings {
  const settings: Settings = { restore_command: restoreCommand(folder), recovery_target_action: 'promote' }
  if (target === 'end') return settings
  if ('name' in target) return { ...settings, recovery_target_name: target.name }
  if ('lsn' in target) return { ...settings, recovery_target_lsn: target.lsn, recovery_target_inclusive: 'off' }
  return { ...settings, recovery_target_time: target.time }
}

/** `settings` as postgresql.conf lines (values single-quoted, quotes doubled). */
export function confLines(settings: Settings): string {
  return Object.entries(settings)
    .map(([name, value]) => `${name} = '${value.replaceAll("'", "''")}'\n`)
    .join('')
}

/**
 * pg_basebackup's arguments: a copy of the whole server into the empty folder `into`, with
 * the WAL it needs to be consistent streamed alongside (so the copy restores even without the
 * archive), after an immediate checkpoint rather than the next scheduled one, and with a
 * manifest that pg_verifybackup checks before anyone relies on the copy.
 */
export function baseBackupArgs(url: string, into: string): string[] {
  return ['--dbname', url, '--pgdata', into, '--format=plain', '--wal-method=stream', '--checkpoint=fast', '--no-password']
}

/** pg_dump's arguments: the database at `url` in one snapshot, in the custom format (compressed; pg_restore picks what to restore). */
export function dumpArgs(url: string, file: string): string[] {
  return ['--dbname', url, '--format=custom', '--file', file, '--no-password']
}

/**
 * pg_restore's arguments: `file` into the empty database at `url`, all in one transaction
 * and stopping at the first error, so a restore that fails leaves the database as empty as
 * it was. Objects are owned by the role restoring, whatever role owned them where the dump
 * was taken.
 */
export function restoreArgs(url: string, file: string): string[] {
  return ['--dbname', url, '--single-transaction', '--exit-on-error', '--no-owner', '--no-password', file]
}
