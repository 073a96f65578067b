import { describe, expect, it } from 'vitest';

import { detectFlags } from '../src/flags';

describe('detectFlags', () => {
  it.each([
    ['df.describe()', []],
    ['df.groupby("a").mean()', []],
    ['import requests\nrequests.get(url)', ['network']],
    ['import httpx', ['network']],
    ['from urllib.request import urlopen', ['network']],
    ['pd.read_csv("https://example.org/data.csv")', ['network']],
    ["pd.read_parquet('s3://bucket/key')", ['network']],
    ['%pip install seaborn', ['network', 'pip']],
    ['!pip install -q xgboost', ['network', 'pip', 'shell']],
    ['!ls -la', ['shell']],
    ['  !rm -rf data', ['shell']],
    ['%%bash\necho hi', ['shell']],
    ['import subprocess\nsubprocess.run(["ls"])', ['shell']],
    ['import os\nos.system("ls")', ['shell']],
    ['!curl -O https://x.example/f', ['network', 'shell']],
    ['with open("out.txt", "w") as f:\n    f.write("x")', ['file_write']],
    ['open(path, mode="a")', ['file_write']],
    ["open('in.txt')", []],
    ["open('in.txt', 'rb')", []],
    ['df.to_csv("clean.csv", index=False)', ['file_write']],
    ['df.to_parquet(p)', ['file_write']],
    ['plt.savefig("fig.png")', ['file_write']],
    ['Path("x").write_text("y")', ['file_write']],
    ['shutil.rmtree("tmp")', ['file_write']],
    ['os.remove(p)', ['file_write']],
    ['joblib.dump(model, "m.joblib")', ['file_write']],
    ['%%writefile script.py\nprint(1)', ['file_write']]
  ])('%s -> %j', (code, flags) => {
    expect(detectFlags(code)).toEqual(flags);
  });
});
