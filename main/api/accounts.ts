import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ensurePrivateDir, writePrivateFile } from '../identity/secure-files.js';
import { ApiError, roleSchema, type Role, type User } from '../shared/api.js';
import { checkNewPassword, dummyHash, hashPassword, verifyPassword } from './passwords.js';
import { UserError } from '../shared/errors.js';

const accountFileSchema = z.object({
  users: z.array(
    z.object({
      username: z.string(),
      role: roleSchema,
      passwordHash: z.string(),
      createdAt: z.string(),
    }),
  ),
});
type StoredUser = z.infer<typeof accountFileSchema>['users'][number];

/** The UI's user accounts: `<dir>/accounts.json`, mode 0600, scrypt hashes only. */
export class AccountStore {
  readonly file: string;
  private users: StoredUser[];

  constructor(private readonly deps: { dir: string; now: () => number }) {
    this.file = join(deps.dir, 'accounts.json');
    this.users = existsSync(this.file) ? readAccounts(this.file) : [];
  }

  hasAdmin(): boolean {
    return this.users.some((user) => user.role === 'admin');
  }

  list(): User[] {
    return this.users.map(({ username, role, createdAt }) => ({ username, role, createdAt }));
  }

  role(username: string): Role | undefined {
    return this.find(username)?.role;
  }

  /** The user's role when the password is right; a missing user costs the same time as a wrong password. */
  async verify(username: string, password: string): Promise<Role | undefined> {
    const user = this.find(username);
    const matches = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
    return matches && user ? user.role : undefined;
  }

  async add(username: string, role: Role, password: string): Promise<User> {
    if (this.find(username)) throw new ApiError('conflict', `user "${username}" exists already`, { field: 'username' });
    checkNewPassword(password, username);
    const user: StoredUser = { username, role, passwordHash: await hashPassword(password), createdAt: new Date(this.deps.now()).toISOString() };
    this.save([...this.users, user]);
    return { username, role, createdAt: user.createdAt };
  }

  remove(username: string): void {
    const user = this.require(username);
    if (user.role === 'admin' && this.users.filter((other) => other.role === 'admin').length === 1) {
      throw new ApiError('conflict', `"${username}" is the last admin`, { hint: 'add another admin first' });
    }
    this.save(this.users.filter((other) => other !== user));
  }

  async setPassword(username: string, password: string): Promise<void> {
    const user = this.require(username);
    checkNewPassword(password, username);
    const passwordHash = await hashPassword(password);
    this.save(this.users.map((other) => (other === user ? { ...other, passwordHash } : other)));
  }

  private find(username: string): StoredUser | undefined {
    return this.users.find((user) => user.username === username);
  }

  private require(username: string): StoredUser {
    const user = this.find(username);
    if (!user) throw new ApiError('not-found', `no user "${username}"`, { field: 'username' });
    return user;
  }

  private save(users: StoredUser[]): void {
    ensurePrivateDir(this.deps.dir);
    writePrivateFile(this.file, `${JSON.stringify({ users }, null, 2)}\n`);
    this.users = users;
  }
}

function readAccounts(file: string): StoredUser[] {
  try {
    return accountFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).users;
  } catch (error) {
    throw new UserError(
      `the UI account file ${file} is unreadable or damaged (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); restore it from a backup, or delete it to get a new setup code`,
    );
  }
}
