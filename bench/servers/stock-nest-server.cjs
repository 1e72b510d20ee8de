// B: a stock NestJS TCP server: default JsonSocket, default limits, a bare echo handler.
// With BENCH_SOCKET=framed, the same server with this project's framed socket (isolates the socket's share).
require('reflect-metadata');
const { framedJsonSocket } = require('@echo-pair/common');
const { Controller, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { MessagePattern, Transport } = require('@nestjs/microservices');

class EchoController {
  echo(data) {
    return data;
  }
}
MessagePattern('echo')(EchoController.prototype, 'echo', Object.getOwnPropertyDescriptor(EchoController.prototype, 'echo'));
Controller()(EchoController);
class StockModule {}
Module({ controllers: [EchoController] })(StockModule);

(async () => {
  const app = await NestFactory.createMicroservice(StockModule, {
    logger: ['error'],
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port: 0, ...(process.env.BENCH_SOCKET === 'framed' ? { socketClass: framedJsonSocket() } : {}) },
  });
  await app.listen();
  process.stdout.write(`${JSON.stringify({ port: app.unwrap().address().port })}\n`);
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
