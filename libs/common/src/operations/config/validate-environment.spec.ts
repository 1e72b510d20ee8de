import { IsIn, IsInt, IsString, Max, Min } from 'class-validator';
import { ToInteger } from './to-integer.decorator';
import { validateEnvironment } from './validate-environment';

class SampleEnvironment {
  @IsString()
  HOST = 'localhost';

  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  @IsIn(['text', 'json'])
  FORMAT: 'text' | 'json' = 'text';
}

describe('validateEnvironment', () => {
  it('fills defaults for missing variables', () => {
    expect(validateEnvironment(SampleEnvironment, {})).toEqual(Object.assign(new SampleEnvironment(), {}));
  });

  it('converts numeric strings and keeps only declared variables', () => {
    const config = validateEnvironment(SampleEnvironment, { PORT: '4000', PATH: '/usr/bin', HOST: 'example' });
    expect(config.PORT).toBe(4000);
    expect(config.HOST).toBe('example');
    expect(config).not.toHaveProperty('PATH');
  });

  it('lists every invalid variable in one error', () => {
    expect(() => validateEnvironment(SampleEnvironment, { PORT: '70000', FORMAT: 'xml' })).toThrow(
      /Invalid configuration:\n {2}- PORT=70000: PORT must not be greater than 65535\n {2}- FORMAT="xml": FORMAT must be one of the following values: text, json/,
    );
  });

  it.each(['abc', '0x10', '1e3', '80.5'])('rejects the non-integer %j, quoting it as written', (port) => {
    expect(() => validateEnvironment(SampleEnvironment, { PORT: port })).toThrow(
      `PORT=${JSON.stringify(port)}: PORT must be an integer number`,
    );
  });

  it.each(['', '  '])('treats the blank value %j as unset', (port) => {
    expect(validateEnvironment(SampleEnvironment, { PORT: port }).PORT).toBe(3000);
  });
});
