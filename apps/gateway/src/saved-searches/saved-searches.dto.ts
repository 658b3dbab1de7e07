import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsNumber, IsString, Length, Min, ValidateIf } from 'class-validator';

/**
 * Optional, but `null` is refused like any other wrong type (IsOptional lets it
 * through, and a stored `location: null` would break every posting the search is matched against).
 */
const IsOptionalNotNull = () => ValidateIf((_search: object, value: unknown) => value !== undefined);

export class CreateSavedSearchRequest {
  @ApiProperty({
    type: 'array',
    items: { type: 'string', minLength: 1, maxLength: 100 },
    minItems: 1,
    maxItems: 10,
    description: 'Each keyword is a word or a phrase, and must occur in the title, description or tags of a posting. A keyword needs at least one word (`"--"` has none).',
    example: ['node.js', 'machine learning'],
  })
  @IsArray({ message: 'keywords must be an array of 1 to 10 strings' })
  @ArrayMinSize(1, { message: 'keywords must be an array of 1 to 10 strings' })
  @ArrayMaxSize(10, { message: 'keywords must be an array of 1 to 10 strings' })
  @IsString({ each: true, message: 'keywords must be an array of 1 to 10 strings' })
  @Length(1, 100, { each: true, message: 'each keyword must be 1 to 100 characters' })
  keywords!: string[];

  @ApiPropertyOptional({ type: String, minLength: 1, maxLength: 200, description: "Equal to the posting's location, ignoring case.", example: 'Berlin' })
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 200)
  location?: string;

  @ApiPropertyOptional({ type: Boolean, description: '`true` finds only remote postings.', example: true })
  @IsOptionalNotNull()
  @IsBoolean()
  remote?: boolean;

  @ApiPropertyOptional({ type: Number, minimum: 0, description: "At most the posting's salary (a posting without one does not match).", example: 60000 })
  @IsOptionalNotNull()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  minSalary?: number;
}
