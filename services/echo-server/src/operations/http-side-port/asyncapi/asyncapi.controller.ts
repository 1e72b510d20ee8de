import { Controller, Get, Header } from '@nestjs/common';
import { type AsyncApiDocument, contractAsyncApi } from '@echo-pair/common';

/**
 * `GET /asyncapi.json` on the HTTP side port: the wire contract as an AsyncAPI 3.0 document, the
 * one docs/asyncapi.yaml holds (`contractAsyncApi()`), built once when the server starts.
 */
@Controller()
export class AsyncApiController {
  private readonly document: AsyncApiDocument = contractAsyncApi();

  @Get('asyncapi.json')
  @Header('Cache-Control', 'no-cache')
  asyncApi(): AsyncApiDocument {
    return this.document;
  }
}
