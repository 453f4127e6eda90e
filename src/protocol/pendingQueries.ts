// A child process asks its parent a question (`query` message) and gets the answer later
// (`queryResult`); this pairs answers with the promises waiting for them.
export class PendingQueries {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /** Sends the question through `post` (with a fresh id) and resolves with the answer. */
  ask(post: (id: number) => void): Promise<unknown> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      post(id);
    });
  }

  answer(reply: { id: number; result?: unknown; error?: string }): void {
    const q = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    if (reply.error !== undefined) q?.reject(new Error(reply.error));
    else q?.resolve(reply.result);
  }
}
