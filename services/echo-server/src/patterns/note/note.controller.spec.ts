import { Logger } from '@nestjs/common';
import { NoteController } from './note.controller';

describe('NoteController', () => {
  const controller = new NoteController();
  let log: jest.SpyInstance;

  beforeEach(() => {
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it.each([
    { label: 'with an author', event: { text: 'deploy done', author: 'ci' }, line: 'note from "ci": "deploy done"' },
    { label: 'without an author', event: { text: 'hi' }, line: 'note from anonymous: "hi"' },
    { label: 'with line breaks and quotes, escaped', event: { text: 'a\nb "c"', author: 'x' }, line: 'note from "x": "a\\nb \\"c\\""' },
    { label: 'with non-ASCII text', event: { text: '你好 👋' }, line: 'note from anonymous: "你好 👋"' },
  ])('logs a note $label and returns nothing', ({ event, line }) => {
    expect(controller.note(event)).toBeUndefined();

    expect(log).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith(line);
  });
});
