/** Whether `char` can continue a name (`t1`, `a$b`): a digit or `$` inside one is no value or parameter. */
function continuesName(char: string | undefined): boolean {
  if (char === undefined) return false;
  const code = char.charCodeAt(0);
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    char === '_' ||
    char === '$' ||
    code > 127
  );
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

/** Index just past the quoted text that opens at `start` with `quote` (doubled, it stands for itself). */
function endOfQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let at = start + 1;
  while (at < sql.length) {
    const char = sql[at];
    if (backslashEscapes && char === '\\') at += 2;
    else if (char !== quote) at += 1;
    else if (sql[at + 1] === quote) at += 2;
    else return at + 1;
  }
  return sql.length;
}

/** The `$tag$` opening a dollar-quoted string at `start`, or undefined (`$1` is a parameter). */
function dollarTag(sql: string, start: number): string | undefined {
  let at = start + 1;
  if (isDigit(sql[at])) return undefined;
  while (at < sql.length && sql[at] !== '$') {
    if (!continuesName(sql[at])) return undefined;
    at += 1;
  }
  return at < sql.length ? sql.slice(start, at + 1) : undefined;
}

/**
 * `sql` with every literal value replaced by `?`: quoted strings (`'…'`, `E'…'`, `$tag$…$tag$`) and numbers
 * standing alone. Names (quoted or not), keywords, `$1` parameters and comments stay. MikroORM writes a
 * statement's values into its text, so a trace records this instead of the text. One pass and no regular
 * expression: the text holds what clients sent.
 */
export function withoutValues(sql: string): string {
  let out = '';
  let at = 0;
  while (at < sql.length) {
    const char = sql[at]!;
    const previous = sql[at - 1];
    if (char === "'") {
      // E'…' (and e'…') take backslash escapes; the E is the literal's, not a name.
      const escaped = (previous === 'E' || previous === 'e') && !continuesName(sql[at - 2]);
      if (escaped) out = out.slice(0, -1);
      at = endOfQuoted(sql, at, "'", escaped);
      out += '?';
    } else if (char === '"') {
      const end = endOfQuoted(sql, at, '"', false);
      out += sql.slice(at, end);
      at = end;
    } else if (char === '$' && !continuesName(previous)) {
      const tag = dollarTag(sql, at);
      if (tag === undefined) {
        out += char;
        at += 1;
      } else {
        const close = sql.indexOf(tag, at + tag.length);
        at = close < 0 ? sql.length : close + tag.length;
        out += '?';
      }
    } else if (char === '-' && sql[at + 1] === '-') {
      const end = sql.indexOf('\n', at);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(at, stop);
      at = stop;
    } else if (char === '/' && sql[at + 1] === '*') {
      const end = sql.indexOf('*/', at + 2);
      const stop = end < 0 ? sql.length : end + 2;
      out += sql.slice(at, stop);
      at = stop;
    } else if ((isDigit(char) || (char === '.' && isDigit(sql[at + 1]))) && !continuesName(previous)) {
      at += 1;
      while (isDigit(sql[at]) || sql[at] === '.') at += 1;
      const sign = sql[at + 1] === '+' || sql[at + 1] === '-';
      if ((sql[at] === 'e' || sql[at] === 'E') && (isDigit(sql[at + 1]) || sign)) {
        at += 2;
        while (isDigit(sql[at])) at += 1;
      }
      out += '?';
    } else {
      out += char;
      at += 1;
    }
  }
  return out;
}
