/** Multimodal message content: `ChatMessageInput.parts`, and its translation to OpenAI's content parts. */
import { BadRequestError } from '../errors.js';
import { builder } from './builder.js';

const ImageDetailEnum = builder.enumType('ImageDetail', {
  description: 'How closely the model looks at an image (OpenAI `image_url.detail`).',
  values: {
    AUTO: { value: 'auto', description: 'The model decides.' },
    LOW: { value: 'low', description: 'A low-resolution view: fewer tokens.' },
    HIGH: { value: 'high', description: 'The full-resolution view.' },
  } as const,
});

const ImageUrlInput = builder.inputType('ImageUrlInput', {
  description: 'An image the model should see.',
  fields: (t) => ({
    url: t.string({ required: true, description: 'An `https://` URL the provider can fetch, or a `data:image/…;base64,…` URL.' }),
    detail: t.field({ type: ImageDetailEnum, description: 'Resolution to look at it in; the provider decides when unset.' }),
  }),
});

const InputAudioInput = builder.inputType('InputAudioInput', {
  description: 'Audio the model should hear (OpenAI `input_audio`).',
  fields: (t) => ({
    data: t.string({ required: true, description: 'The audio, base64-encoded.' }),
    format: t.string({ required: true, description: 'Its encoding: "wav", "mp3", …' }),
  }),
});

const FileInput = builder.inputType('FileInput', {
  description: 'A document (a PDF, say) the model should read: an uploaded file by id, or the file itself.',
  fields: (t) => ({
    fileId: t.string({ description: 'The id of a file uploaded to the provider.' }),
    fileData: t.string({ description: 'The file itself, base64-encoded (as a `data:` URL or bare, as the provider expects).' }),
    filename: t.string({ description: 'Its name, with fileData.' }),
  }),
});

export const ContentPartInput = builder.inputType('ContentPartInput', {
  description: 'One part of a multimodal message: exactly one of its fields is set.',
  isOneOf: true,
  fields: (t) => ({
    text: t.string({ description: 'Text.' }),
    imageUrl: t.field({ type: ImageUrlInput, description: 'An image.' }),
    inputAudio: t.field({ type: InputAudioInput, description: 'Audio.' }),
    file: t.field({ type: FileInput, description: 'A file.' }),
  }),
});

type Part = typeof ContentPartInput.$inferInput;
const PART_FIELDS = ['text', 'imageUrl', 'inputAudio', 'file'] as const;
/** OpenAI's wire shape of a content part. */
export type WirePart = Record<string, unknown> & { type: string };

/** `parts` as OpenAI's `content` array; `where` names the message for error messages. */
export function toWireParts(parts: readonly Part[], where: string): WirePart[] {
  if (parts.length === 0) throw new BadRequestError(`${where}.parts must not be empty`);
  return parts.map((part, i): WirePart => {
    const at = `${where}.parts[${i}]`;
    // @oneOf, checked here too: compiled execution (graphql-jit) coerces variables without it.
    const set = PART_FIELDS.filter((field) => part[field] != null);
    if (set.length !== 1) {
      throw new BadRequestError(`${at} must set exactly one of ${PART_FIELDS.join(', ')}${set.length ? ` (it sets ${set.join(' and ')})` : ''}`);
    }
    if (part.text != null) return { type: 'text', text: part.text };
    if (part.imageUrl != null) {
      const { url, detail } = part.imageUrl;
      if (!/^(https:\/\/|data:)/i.test(url)) throw new BadRequestError(`${at}.imageUrl.url must be an https:// or data: URL`);
      return { type: 'image_url', image_url: detail != null ? { url, detail } : { url } };
    }
    if (part.inputAudio != null) return { type: 'input_audio', input_audio: { data: part.inputAudio.data, format: part.inputAudio.format } };
    if (part.file != null) {
      const { fileId, fileData, filename } = part.file;
      if (fileId == null && fileData == null) throw new BadRequestError(`${at}.file needs fileId or fileData`);
      const file: Record<string, string> = {};
      if (fileId != null) file.file_id = fileId;
      if (fileData != null) file.file_data = fileData;
      if (filename != null) file.filename = filename;
      return { type: 'file', file };
    }
    throw new BadRequestError(`${at} must set exactly one of ${PART_FIELDS.join(', ')}`);
  });
}

/** Characters of text in parts, for the input limit (images, audio and files are bounded by the body size). */
export function textLength(parts: readonly WirePart[]): number {
  let n = 0;
  for (const part of parts) if (typeof part.text === 'string') n += part.text.length;
  return n;
}
