// Papr's official npm client (@papr/memory, pinned in package.json) against the real
// papr-server: every call of the client an application makes for memories, end users and
// documents.
// Run: tools/test_clients.sh (installs the pinned client, needs build/bin/papr-server).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Papr, { toFile } from '@papr/memory';
import { startServer } from '../../tools/js/papr_server.mjs';

const KEY = 'client-test-key';

/** A client of `server` only (never the default cloud URL), without retries. */
function clientOf(server) {
  return new Papr({ xAPIKey: KEY, baseURL: server.url, maxRetries: 0, timeout: 30_000 });
}

async function waitForDocument(client, uploadId, states) {
  const deadline = Date.now() + 30_000;
  let status;
  do {
    status = await client.document.getStatus(uploadId);
  } while (!states.includes(status.status) && Date.now() < deadline &&
           await new Promise((r) => setTimeout(() => r(true), 100)));
  return status;
}

async function idsFound(client, query, externalUserId) {
  const params = { query, max_memories: 50 };
  if (externalUserId) params.external_user_id = externalUserId;
  const answer = await client.memory.search(params);
  assert.equal(answer.status, 'success');
  return answer.data.memories.map((m) => m.id).sort();
}

for (const config of ['opensource.yaml', 'cloud.yaml']) {
  describe(`@papr/memory against ${config}`, () => {
    let server;
    let client;
    before(async () => {
      server = await startServer(config, { key: KEY });
      client = clientOf(server);
    });
    after(async () => {
      if (server) await server.stop();
    });

    it('memory.search with external_user_id sees that end user only', async () => {
      const ann = await client.memory.add({ content: 'ann notes zqclient', external_user_id: 'ann' });
      const ben = await client.memory.add({ content: 'ben notes zqclient', external_user_id: 'ben' });
      const annId = ann.data[0].memoryId;
      const benId = ben.data[0].memoryId;
      assert.deepEqual(await idsFound(client, 'zqclient', 'ann'), [annId]);
      assert.deepEqual(await idsFound(client, 'zqclient', 'ben'), [benId]);
      assert.deepEqual(await idsFound(client, 'zqclient'), [annId, benId].sort());
    });

    it('memory.search honours a metadata filter', async () => {
      const sea = await client.memory.add({ content: 'zqmeta harbour', metadata: { topics: ['sea'] } });
      await client.memory.add({ content: 'zqmeta airport', metadata: { topics: ['air'] } });
      const answer = await client.memory.search({ query: 'zqmeta', metadata: { topics: ['sea'] } });
      assert.deepEqual(answer.data.memories.map((m) => m.id), [sea.data[0].memoryId]);
    });

    it('memory.update replaces the content and search follows', async () => {
      const added = await client.memory.add({ content: 'zqbefore the update' });
      const id = added.data[0].memoryId;
      const updated = await client.memory.update(id, {
        content: 'zqafter the update', metadata: { topics: ['client'] },
      });
      assert.equal(updated.status, 'success');
      assert.equal(updated.memory_items[0].memoryId, id);
      assert.equal(updated.memory_items[0].content, 'zqafter the update');
      const got = await client.memory.get(id);
      assert.equal(got.data.memories[0].content, 'zqafter the update');
      assert.deepEqual(await idsFound(client, 'zqafter'), [id]);
      assert.deepEqual(await idsFound(client, 'zqbefore'), []);
      await assert.rejects(client.memory.update('no-such-memory', { content: 'x' }),
        (err) => err.status === 404);
    });

    it('memory.deleteAll deletes one end user\'s memories, then all', async () => {
      await client.memory.add({ content: 'cy zqwipe one', external_user_id: 'cy' });
      await client.memory.add({ content: 'cy zqwipe two', external_user_id: 'cy' });
      const dee = await client.memory.add({ content: 'dee zqwipe', external_user_id: 'dee' });
      const cy = await client.memory.deleteAll({ external_user_id: 'cy' });
      assert.equal(cy.total_successful, 2);
      assert.equal(cy.total_failed, 0);
      assert.deepEqual(await idsFound(client, 'zqwipe'), [dee.data[0].memoryId]);
      const all = await client.memory.deleteAll();
      assert.ok(all.total_successful >= 1);
      assert.deepEqual(await idsFound(client, 'zqwipe'), []);
    });

    it('memory.addBatch answers with BatchMemoryResponse fields', async () => {
      const answer = await client.memory.addBatch({
        memories: [{ content: 'zqbatch one' }, { content: 'zqbatch two' }],
      });
      assert.ok(answer.batch_id);
      for (const field of ['total_processed', 'total_successful', 'total_failed']) {
        assert.equal(typeof answer[field], 'number', field);
      }
      assert.ok(Array.isArray(answer.successful) && Array.isArray(answer.errors));
      const deadline = Date.now() + 20_000;
      let status;
      do {
        status = await client.memory.retrieveBatchStatus(answer.batch_id);
      } while (status.status !== 'completed' && Date.now() < deadline &&
               await new Promise((r) => setTimeout(() => r(true), 100)));
      assert.equal(status.status, 'completed');
      assert.equal(status.total_successful, 2);
    });

    it('document.upload stores a file\'s chunks; getStatus follows it', async () => {
      let text = '# Client notes\n\n';
      for (let i = 0; i < 20; i++) text += `Paragraph ${i} of the zqdocclient notes.\n\n`;
      const answer = await client.document.upload({
        file: await toFile(Buffer.from(text), 'notes.md', { type: 'text/markdown' }),
        external_user_id: 'hal',
        metadata: JSON.stringify({ project: 'client' }),
      });
      assert.equal(answer.status, 'processing');
      const uploadId = answer.document_status.upload_id;
      assert.ok(uploadId);
      const status = await waitForDocument(client, uploadId, ['completed', 'failed']);
      assert.equal(status.status, 'completed');
      assert.equal(status.progress, 1);
      const found = await client.memory.search({ query: 'zqdocclient', external_user_id: 'hal' });
      assert.ok(found.data.memories.length >= 1);
      assert.equal(found.data.memories[0].metadata.document_id, uploadId);
      assert.equal(found.data.memories[0].metadata.project, 'client');
      // Finished: there is nothing left to cancel.
      await assert.rejects(client.document.cancelProcessing(uploadId), (err) => err.status === 409);
      await assert.rejects(client.document.getStatus('no-such-upload'), (err) => err.status === 404);
    });

    if (config === 'cloud.yaml') {
      it('document.cancelProcessing stops a large document', async () => {
        let text = '';
        for (let i = 0; i < 3000; i++) text += `${'zqcancel words '.repeat(100)}end ${i}.\n\n`;
        const answer = await client.document.upload({
          file: await toFile(Buffer.from(text), 'big.txt', { type: 'text/plain' }),
        });
        const uploadId = answer.document_status.upload_id;
        const cancel = await client.document.cancelProcessing(uploadId);
        assert.equal(cancel.upload_id, uploadId);
        const status = await waitForDocument(client, uploadId, ['cancelled', 'completed']);
        assert.equal(status.status, 'cancelled');
      });
    }

    it('user.create, createBatch, list, get, update and delete', async () => {
      const eve = await client.user.create({ external_id: 'eve', email: 'eve@example.org' });
      assert.equal(eve.external_id, 'eve');
      assert.ok(eve.user_id);
      const again = await client.user.create({ external_id: 'eve' });
      assert.equal(again.user_id, eve.user_id);
      const batch = await client.user.createBatch({
        users: [{ external_id: 'fay' }, { external_id: 'gus', type: 'agent' }],
      });
      assert.equal(batch.data.length, 2);
      const list = await client.user.list({ page_size: 2 });
      assert.equal(list.total, 3);
      assert.equal(list.data.length, 2);
      const byEmail = await client.user.list({ email: 'eve@example.org' });
      assert.deepEqual(byEmail.data.map((u) => u.user_id), [eve.user_id]);
      assert.equal((await client.user.get(eve.user_id)).external_id, 'eve');
      const updated = await client.user.update(eve.user_id, { metadata: { tier: 'gold' } });
      assert.deepEqual(updated.metadata, { tier: 'gold' });
      const memory = await client.memory.add({ content: 'eve zquser', external_user_id: 'eve' });
      const deleted = await client.user.delete(eve.user_id);
      assert.equal(deleted.user_id, eve.user_id);
      await assert.rejects(client.memory.get(memory.data[0].memoryId), (err) => err.status === 404);
      await assert.rejects(client.user.get(eve.user_id), (err) => err.status === 404);
      assert.equal((await client.user.list()).total, 2);
    });
  });
}
