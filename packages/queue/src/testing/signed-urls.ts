/**
 * Signed URLs as the object stores and APIs issue them, each with the secret values it carries
 * and values that are not secret (which scrubbing must leave alone, so an alert stays useful).
 * For tests that prove a secret never leaves the process: put the URLs in, look for the secrets.
 * The values are made up; none is a live credential.
 */

/** One signed URL and what is in it. */
export interface SignedUrlSample {
  /** Where this kind of URL comes from. */
  readonly label: string;
  readonly url: string;
  /** Substrings that must never be seen outside the process. */
  readonly secrets: readonly string[];
  /** Substrings that must survive scrubbing (host, path, non-secret parameters). */
  readonly kept: readonly string[];
}

/** Every kind of signed URL kai-jobs is given in payloads. */
export const SIGNED_URL_SAMPLES: readonly SignedUrlSample[] = [
  {
    label: 'S3 presigned (SigV4, temporary credentials)',
    url:
      'https://kai-docs.s3.eu-central-1.amazonaws.com/uploads/catalog.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
      '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261207%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date=20261207T071500Z' +
      '&X-Amz-Expires=3600&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN%2Bsecret%3D%3D&X-Amz-SignedHeaders=host' +
      '&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024',
    secrets: ['AKIAIOSFODNN7EXAMPLE', 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN', 'fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024'],
    kept: ['kai-docs.s3.eu-central-1.amazonaws.com/uploads/catalog.pdf', 'X-Amz-Date=20261207T071500Z', 'X-Amz-Expires=3600'],
  },
  {
    label: 'S3 presigned, lower-case names (SigV4 names are case-insensitive)',
    url: 'https://s3.amazonaws.com/kai-docs/b.pdf?x-amz-credential=AKIAJLOWERCASEEXAMPLE%2F20261207&x-amz-signature=0badc0ffee0123456789abcdef0123456789abcdef0123456789abcdef012345',
    secrets: ['AKIAJLOWERCASEEXAMPLE', '0badc0ffee0123456789abcdef0123456789abcdef0123456789abcdef012345'],
    kept: ['s3.amazonaws.com/kai-docs/b.pdf'],
  },
  {
    label: 'S3 presigned (SigV2)',
    url: 'https://kai-legacy.s3.amazonaws.com/old.pdf?AWSAccessKeyId=AKIAV2LEGACYEXAMPLE&Expires=1796000000&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D',
    secrets: ['AKIAV2LEGACYEXAMPLE', 'vjbyPxybdZaNmGa%2ByT272YEAiv4'],
    kept: ['kai-legacy.s3.amazonaws.com/old.pdf', 'Expires=1796000000'],
  },
  {
    label: 'Google Cloud Storage signed URL (V4)',
    url:
      'https://storage.googleapis.com/kai-feeds/supplier.xml?X-Goog-Algorithm=GOOG4-RSA-SHA256' +
      '&X-Goog-Credential=feeds-signer%40kai-prod.iam.gserviceaccount.com%2F20261207%2Fauto%2Fstorage%2Fgoog4_request' +
      '&X-Goog-Date=20261207T071500Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host' +
      '&X-Goog-Signature=5c7f1e2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
    secrets: ['feeds-signer%40kai-prod', '5c7f1e2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b'],
    kept: ['storage.googleapis.com/kai-feeds/supplier.xml', 'X-Goog-Date=20261207T071500Z', 'X-Goog-Expires=900'],
  },
  {
    label: 'Azure Blob SAS',
    url:
      'https://kaistore.blob.core.windows.net/docs/spec.pdf?sp=r&st=2026-12-07T07:00:00Z&se=2026-12-07T15:00:00Z' +
      '&spr=https&sv=2022-11-02&sr=b&sig=Zm9vYmFyYmF6cXV4c2VjcmV0c2lnbmF0dXJlQVpVUkU%3D',
    secrets: ['Zm9vYmFyYmF6cXV4c2VjcmV0c2lnbmF0dXJlQVpVUkU', 'sv=2022-11-02'],
    kept: ['kaistore.blob.core.windows.net/docs/spec.pdf', 'se=2026-12-07T15:00:00Z', 'sr=b'],
  },
  {
    label: 'feed with an access key, an access token and a token',
    url: 'https://feeds.example.com/export.xml?format=xml&access_key=ak_live_51HxyzSECRETKEY&ACCESS_TOKEN=ya29.a0AfB_SECRETACCESSTOKEN&Token=tok_9f8e7dSECRET',
    secrets: ['ak_live_51HxyzSECRETKEY', 'ya29.a0AfB_SECRETACCESSTOKEN', 'tok_9f8e7dSECRET'],
    kept: ['feeds.example.com/export.xml', 'format=xml'],
  },
  {
    label: 'Google API key',
    url: 'https://maps.example.com/api/geocode?address=Berlin&key=AIzaSyEXAMPLEapiKEY0123456789',
    secrets: ['AIzaSyEXAMPLEapiKEY0123456789'],
    kept: ['maps.example.com/api/geocode', 'address=Berlin'],
  },
  {
    label: 'user info',
    url: 'https://importer:Sup3rS3cretPassw0rd@ftp-gateway.example.com/feeds/products.xml',
    secrets: ['Sup3rS3cretPassw0rd'],
    kept: ['ftp-gateway.example.com/feeds/products.xml'],
  },
];

/** Every secret of {@link SIGNED_URL_SAMPLES}. */
export function allSampleSecrets(): string[] {
  return SIGNED_URL_SAMPLES.flatMap((sample) => sample.secrets);
}

/** The secrets of {@link SIGNED_URL_SAMPLES} found in `text` (each at most once). */
export function leakedSampleSecrets(text: string): string[] {
  return allSampleSecrets().filter((secret) => text.includes(secret));
}
