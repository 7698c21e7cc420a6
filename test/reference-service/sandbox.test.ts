import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startReferenceService, type ReferenceService } from './index.js';
import { call, loginPilot, requestMatch } from './test-client.js';

const WORKFLOW = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\n';

let folder: string;
let service: ReferenceService;
let jobId: number;
let jobToken: string;
let inputPfn: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'reference-sandbox-'));
  await mkdir(join(folder, 'inputs', 'nested'), { recursive: true });
  await writeFile(join(folder, 'inputs', 'a.txt'), 'alpha\n');
  await writeFile(join(folder, 'inputs', 'nested', 'b.txt'), 'beta\n');
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

beforeEach(async () => {
  service = await startReferenceService();
  await service.submitJob({ workflow: WORKFLOW, inputSandboxDir: join(folder, 'inputs') });
  const pilot = await loginPilot(service, 'sandboxer');
  const match = await requestMatch(service, pilot.access_token, 'sandboxer');
  jobId = match.json.job_id;
  jobToken = match.json.credentials.access_token;
  inputPfn = match.json.input_sandbox[0];
});

afterEach(async () => {
  await service.close();
});

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function initiate(bytes: Buffer, size = bytes.length) {
  return call(service, 'POST', '/api/jobs/sandbox', {
    token: jobToken,
    json: { checksum_algorithm: 'sha256', checksum: sha256Hex(bytes), size, format: 'tar.zst' },
  });
}

async function postForm(
  url: string,
  fields: Record<string, string>,
  file: Buffer,
  fileFirst = false,
) {
  const form = new FormData();
  if (fileFirst) {
    form.append('file', new Blob([file]), 'sandbox.tar.zst');
  }
  for (const [name, value] of Object.entries(fields)) {
    form.append(name, value);
  }
  if (!fileFirst) {
    form.append('file', new Blob([file]), 'sandbox.tar.zst');
  }
  const response = await fetch(url, { method: 'POST', body: form });
  return { status: response.status, text: await response.text() };
}

describe('input sandbox', () => {
  it('packs members relative to the folder', () => {
    const bytes = service.readSandbox(inputPfn);
    const listing = execFileSync('tar', ['-tjf', '-'], { input: bytes }).toString().split('\n');

    expect(inputPfn).toBe(
      `SB:SandboxSE|/S3/sandboxes/ctao/ctao_user/jdoe/sha256:${sha256Hex(bytes)}.tar.bz2`,
    );
    expect(listing).toContain('a.txt');
    expect(listing).toContain('nested/b.txt');
  });

  it('downloads through a presigned URL', async () => {
    const answer = await call(
      service,
      'GET',
      `/api/jobs/sandbox?pfn=${encodeURIComponent(inputPfn)}`,
      {
        token: jobToken,
      },
    );
    const download = await fetch(answer.json.url);
    const bytes = Buffer.from(await download.arrayBuffer());

    expect(answer.status).toBe(200);
    expect(answer.json.expires_in).toBe(300);
    expect(download.status).toBe(200);
    expect(sha256Hex(bytes)).toBe(sha256Hex(service.readSandbox(inputPfn)));
  });

  it('refuses a download with an Authorization header', async () => {
    const answer = await call(
      service,
      'GET',
      `/api/jobs/sandbox?pfn=${encodeURIComponent(inputPfn)}`,
      {
        token: jobToken,
      },
    );
    const download = await fetch(answer.json.url, {
      headers: { authorization: `Bearer ${jobToken}` },
    });

    expect(download.status).toBe(400);
  });

  it('expires the download URL after 300 s', async () => {
    const answer = await call(
      service,
      'GET',
      `/api/jobs/sandbox?pfn=${encodeURIComponent(inputPfn)}`,
      {
        token: jobToken,
      },
    );
    service.advanceClock(301);
    const download = await fetch(answer.json.url);

    expect(download.status).toBe(403);
    expect(await download.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses the job token of another job', async () => {
    const other = await service.submitJob({ workflow: WORKFLOW });
    const pilot = await loginPilot(service, 'second');
    const match = await requestMatch(service, pilot.access_token, 'second');
    const answer = await call(
      service,
      'GET',
      `/api/jobs/sandbox?pfn=${encodeURIComponent(inputPfn)}`,
      {
        token: match.json.credentials.access_token,
      },
    );

    expect(match.json.job_id).toBe(other);
    expect(answer.status).toBe(403);
  });

  it('rejects a malformed reference with 422', async () => {
    const answer = await call(service, 'GET', '/api/jobs/sandbox?pfn=SB:SandboxSE|/S3/x.tar', {
      token: jobToken,
    });

    expect(answer.status).toBe(422);
  });

  it('shares one archive between jobs of the same folder', async () => {
    const second = await service.submitJob({
      workflow: WORKFLOW,
      inputSandboxDir: join(folder, 'inputs'),
    });

    expect(service.getJob(second).inputSandbox).toEqual([inputPfn]);
  });
});

describe('output sandbox upload', () => {
  const archive = Buffer.from('pretend this is a tar.zst archive');

  it('accepts the right bytes and then knows them', async () => {
    const first = await initiate(archive);
    const upload = await postForm(first.json.url, first.json.fields, archive);
    const again = await initiate(archive);

    expect(first.status).toBe(200);
    expect(first.json.pfn).toBe(
      `SB:SandboxSE|/S3/sandboxes/ctao/ctao_user/jdoe/sha256:${sha256Hex(archive)}.tar.zst`,
    );
    expect(upload.status).toBe(204);
    expect(service.readSandbox(first.json.pfn)).toEqual(archive);
    expect(again.json).toEqual({ pfn: first.json.pfn, url: null, fields: {} });
  });

  it('refuses bytes of the wrong size', async () => {
    const first = await initiate(archive);
    const upload = await postForm(
      first.json.url,
      first.json.fields,
      Buffer.concat([archive, archive]),
    );

    expect(upload.status).toBe(400);
    expect(upload.text).toContain('EntityTooLarge');
  });

  it('refuses bytes with the wrong sha256', async () => {
    const first = await initiate(archive);
    const forged = Buffer.from(archive);
    forged[0] = forged[0]! ^ 0xff;
    const upload = await postForm(first.json.url, first.json.fields, forged);

    expect(upload.status).toBe(400);
    expect(upload.text).toContain('BadDigest');
    expect(() => service.readSandbox(first.json.pfn)).toThrow();
  });

  it('refuses a file part sent before the fields', async () => {
    const first = await initiate(archive);
    const upload = await postForm(first.json.url, first.json.fields, archive, true);

    expect(upload.status).toBe(400);
  });

  it('refuses an upload after 300 s', async () => {
    const first = await initiate(archive);
    service.advanceClock(301);
    const upload = await postForm(first.json.url, first.json.fields, archive);

    expect(upload.status).toBe(403);
  });

  it('refuses a sandbox above 100 MiB with 400', async () => {
    const answer = await initiate(archive, 100 * 1024 * 1024 + 1);

    expect(answer.status).toBe(400);
    expect(typeof answer.json.detail).toBe('string');
  });

  it('refuses an unknown format with 422', async () => {
    const answer = await call(service, 'POST', '/api/jobs/sandbox', {
      token: jobToken,
      json: { checksum_algorithm: 'sha256', checksum: sha256Hex(archive), size: 10, format: 'zip' },
    });

    expect(answer.status).toBe(422);
  });
});

describe('PATCH /api/jobs/{job_id}/sandbox/output', () => {
  async function uploaded(bytes: Buffer): Promise<string> {
    const first = await initiate(bytes);
    await postForm(first.json.url, first.json.fields, bytes);
    return first.json.pfn;
  }

  function assign(pfn: string, id = jobId) {
    return call(service, 'PATCH', `/api/jobs/${id}/sandbox/output`, { token: jobToken, json: pfn });
  }

  it('answers 400 when the same sandbox is assigned twice', async () => {
    const pfn = await uploaded(Buffer.from('first output'));
    const first = await assign(pfn);
    const second = await assign(pfn);

    expect(first.status).toBe(200);
    expect(second.status).toBe(400);
    expect(second.json).toEqual({ detail: 'Sandbox already assigned' });
  });

  it('accepts a different sandbox, so the job has two', async () => {
    const first = await assign(await uploaded(Buffer.from('first output')));
    const second = await assign(await uploaded(Buffer.from('second output')));

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(service.getJob(jobId).outputSandboxes).toHaveLength(2);
  });

  it('refuses a job token of another job', async () => {
    const pfn = await uploaded(Buffer.from('first output'));
    const other = await service.submitJob({ workflow: WORKFLOW });
    const answer = await assign(pfn, other);

    expect(answer.status).toBe(403);
  });

  it('refuses a pilot token', async () => {
    const pilot = await loginPilot(service, 'not-for-sandboxes');
    const answer = await call(service, 'PATCH', `/api/jobs/${jobId}/sandbox/output`, {
      token: pilot.access_token,
      json: inputPfn,
    });

    expect(answer.status).toBe(403);
  });
});
