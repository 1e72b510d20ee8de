/**
 * What a response class implements beside its response type (`implements EchoResponse,
 * ResponseShape<EchoResponse, EchoResponseDto>`), so that the compiler holds the class to the type
 * both ways: `implements EchoResponse` makes the class assignable to the type; this makes the type
 * assignable to the class, and names any field of the type (optional ones too) the class lacks.
 */
export type ResponseShape<Type, Class> = ([Type] extends [Class]
  ? unknown
  : { readonly 'the response type is not assignable to this class': never }) & {
  [K in Exclude<keyof Type, keyof Class>]-?: Type[K];
};
