// Preload for the benchmark (`node --require bench/maxrss.cjs ...`) where /usr/bin/time is
// missing: writes the process's peak resident set size in KB to $BENCH_MAXRSS_FILE at exit.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const file = process.env.BENCH_MAXRSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS));
});
