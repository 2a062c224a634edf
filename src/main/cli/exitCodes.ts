/** `stageb` exit codes (README, "Command line"). */
export const EXIT = {
  ok: 0,
  /** The command ran and failed: bad config or input, model error, I/O. */
  failure: 1,
  /** The command line itself is wrong: unknown command or flag, missing or malformed value. */
  usage: 2,
  /** Cancelled (Ctrl-C, SIGTERM): 128 + SIGINT, as shells report it. */
  cancelled: 130,
} as const;
