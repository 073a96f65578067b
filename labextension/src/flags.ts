/**
 * What a suggested cell does that a person should look at before running it.
 *
 * The kernel flags its suggestions too; the panel checks the code it shows on its own,
 * so a flag cannot go missing between the two. The checks are deliberately broad: a
 * false flag costs a glance, a missed one could cost data.
 */

export type Flag = 'network' | 'pip' | 'shell' | 'file_write';

/** Short labels and the reason each flag is shown. */
export const FLAG_INFO: Readonly<Record<string, { label: string; title: string }>> = {
  network: { label: 'network', title: 'Reaches the network (downloads, HTTP requests, URLs).' },
  pip: { label: 'installs packages', title: 'Installs packages (%pip, !pip, conda).' },
  shell: { label: 'shell', title: 'Runs shell commands (!cmd, %%bash, subprocess, os.system).' },
  file_write: {
    label: 'writes files',
    title: 'Writes, moves or deletes files (open for writing, .to_csv, savefig, shutil).'
  }
};

const RULES: ReadonlyArray<[Flag, RegExp]> = [
  ['pip', /^\s*[%!]\s*(pip3?|conda|mamba|micromamba|uv)\b/m],
  ['pip', /\b(pip3?|conda|mamba|uv)\s+(install|uninstall|update|upgrade)\b/],
  ['network', /^\s*[%!]\s*(pip3?|conda|mamba|micromamba|uv)\s+install\b/m],
  ['network', /\b(requests|httpx|urllib3?|aiohttp|socket|ftplib|smtplib|paramiko|websockets?|boto3|http\.client)\b/],
  ['network', /\b(wget|curl)\b/],
  ['network', /["'](?:https?|ftps?|s3|gs|gcs|az|abfss?|hdfs|wss?):\/\//i],
  ['shell', /^\s*!/m],
  ['shell', /^\s*%%(bash|sh|script|system|perl|ruby|powershell|cmd)\b/m],
  ['shell', /^\s*%(system|sx|sc)\b/m],
  ['shell', /\bsubprocess\b|\bos\.(system|popen|exec\w*|spawn\w*|posix_spawn\w*)\b|\bpty\.spawn\b/],
  ['shell', /\bget_ipython\(\)\.(system|getoutput)\b/],
  ['file_write', /\bopen\([^)]*,\s*(mode\s*=\s*)?[rbt]*["'][^"']*[waxX+][^"']*["']/],
  ['file_write', /\bopen\([^)]*\bmode\s*=\s*["'][^"']*[wax+]/],
  [
    'file_write',
    /\.to_(csv|parquet|excel|json|pickle|feather|hdf|sql|stata|html|latex|xml|orc|markdown|clipboard)\s*\(/
  ],
  ['file_write', /\.write_(text|bytes)\s*\(|\.(savefig|save_model|save|to_file|dump)\s*\(/],
  ['file_write', /\b(pickle|joblib|json|yaml|np|numpy|torch)\.(dump|save|savez\w*|savetxt)\s*\(/],
  ['file_write', /\bshutil\.\w+\s*\(|\bos\.(remove|unlink|rename|replace|rmdir|removedirs|makedirs|mkdir|truncate|chmod)\s*\(/],
  ['file_write', /\.(unlink|rmdir|mkdir|touch|rename|replace|chmod)\s*\(/],
  ['file_write', /^\s*%%(writefile|file)\b/m]
];

/** The flags `code` deserves, each once, in a stable order. */
export function detectFlags(code: string): Flag[] {
  const found = new Set<Flag>();
  for (const [flag, pattern] of RULES) {
    if (pattern.test(code)) {
      found.add(flag);
    }
  }
  return (['network', 'pip', 'shell', 'file_write'] as Flag[]).filter(flag => found.has(flag));
}
