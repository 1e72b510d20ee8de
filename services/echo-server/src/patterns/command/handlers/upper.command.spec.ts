import { UpperCommand } from './upper.command';

describe('UpperCommand', () => {
  const command = new UpperCommand();

  it.each([
    { args: ['hi'], output: 'HI' },
    { args: ['hello', 'big', 'World'], output: 'HELLO BIG WORLD' },
    { args: ['a', '', 'b'], output: 'A  B' },
    { args: ['straße'], output: 'STRASSE' },
    { args: ['héllo', 'ωμέγα'], output: 'HÉLLO ΩΜΈΓΑ' },
    { args: ['42 ok!'], output: '42 OK!' },
  ])('upper $args → $output', ({ args, output }) => {
    expect(command.execute(args)).toBe(output);
  });
});
