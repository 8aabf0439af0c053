import { describe, expect, it } from 'vitest';
import { parsePasswd } from './passwd.js';

describe('parsePasswd', () => {
  it('maps uids to names, first entry wins, comments and junk skipped', () => {
    const passwd =
      'root:x:0:0:root:/root:/bin/bash\n# comment\nbroken-line\nalice:x:1000:1000::/home/alice:/bin/sh\ntoor:x:0:0::/:/bin/sh\n';
    const users = parsePasswd(passwd);
    expect(users.get(0)).toBe('root');
    expect(users.get(1000)).toBe('alice');
    expect(users.size).toBe(2);
  });
});
