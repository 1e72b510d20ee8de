import { LowerCommand } from './lower.command';

describe('LowerCommand', () => {
  const command = new LowerCommand();

  it.each([
    { args: ['HI'], output: 'hi' },
    { args: ['Hello', 'BIG', 'world'], output: 'hello big world' },
    { args: ['ÀÉÎ', 'ÕÜ'], output: 'àéî õü' },
    // Greek capital sigma becomes the final form at the end of a word.
    { args: ['ΣΑΣ'], output: 'σας' },
    { args: ['MiXeD 42!'], output: 'mixed 42!' },
  ])('lower $args → $output', ({ args, output }) => {
    expect(command.execute(args)).toBe(output);
  });
});
